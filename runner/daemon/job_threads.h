// JobThreads: one thread per running job, and the shutdown they share with the fetch loop: stop
// fetching, give the jobs a grace period, cancel them, then give up their reports. Thread-safe.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>

#include "runner/forge/forge_client.h"

namespace nixjail::runner::daemon {

class JobThreads {
  public:
    // A job: runs until done or `cancel`; stops retrying its reports on `give_up`.
    using Job = std::function<forge::Result(std::stop_token cancel, std::stop_token give_up)>;

    explicit JobThreads(std::shared_ptr<spdlog::logger> log);
    // Cancels the running jobs at once, gives up their reports and joins their threads.
    ~JobThreads();
    JobThreads(const JobThreads&) = delete;
    JobThreads& operator=(const JobThreads&) = delete;

    void start(Job job);
    // Joins the threads of ended jobs, then waits until fewer than `capacity` jobs run; false when
    // shutting down.
    bool waitForSlot(int capacity);
    // Sleeps for `d` or until shutdown; false when shutting down.
    bool pause(std::chrono::milliseconds d);
    // Waits until no job runs, or shutdown.
    void waitIdle();
    // The result of the job that ended last; nullopt before one ended.
    std::optional<forge::Result> lastResult();

    // From any thread (the signal handler's): stop fetching and let the running jobs have the
    // grace period (`grace`, for the log; drain() waits it out). A second call cancels them at
    // once.
    void shutdown(std::chrono::milliseconds grace);
    // Shutdown, cancelling at once (when the forge no longer knows the runner, the running jobs
    // cannot report either).
    void shutdownNow();
    // Waits up to `grace` for the running jobs (less after a second shutdown() or shutdownNow()),
    // cancels those still running, waits a while for their final reports, then gives those up;
    // joins every thread.
    void drain(std::chrono::milliseconds grace);

  private:
    // Each stage implies the ones before it.
    enum class Stage { kRunning, kStopFetching, kCancelNow };

    std::shared_ptr<spdlog::logger> log_;
    std::stop_source cancel_;   // cancels running jobs
    std::stop_source give_up_;  // stops retrying reports
    std::mutex mutex_;
    std::condition_variable cv_;  // a job ended, or the stage changed
    Stage stage_ = Stage::kRunning;
    int running_ = 0;
    std::optional<forge::Result> last_result_;
    struct Worker {
        std::thread thread;
        bool done = false;
    };
    std::list<Worker> workers_;
};

}  // namespace nixjail::runner::daemon
