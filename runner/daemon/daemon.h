// Daemon: Declare, then poll the forge for tasks and run up to runner.capacity of them at once,
// until shutdown() (SIGTERM) or the forge no longer knows the runner.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <memory>
#include <optional>

#include "runner/config/runner_config.h"
#include "runner/daemon/job_threads.h"
#include "runner/daemon/metrics.h"
#include "runner/daemon/task_runner.h"
#include "runner/forge/forge_client.h"
#include "runner/forge/runner_file.h"
#include "runner/store/job_store.h"

namespace nixjail::runner::daemon {

// The forge no longer knows this runner: stop, and tell the operator to re-register.
class ReRegisterError : public base::Error {
  public:
    using base::Error::Error;
};

struct DaemonParts {
    forge::ForgeClient* fetch_client = nullptr;   // FetchTask, with the fetch timeout
    forge::ForgeClient* report_client = nullptr;  // Declare, UpdateTask, UpdateLog
    forge::RunnerFile runner;
    JobResources resources;  // its client is report_client
};

class Daemon {
  public:
    Daemon(const config::RunnerConfig& config, DaemonParts parts);

    // Polls and runs tasks until shutdown; returns once every job has ended and reported (or the
    // reports were given up). Throws ReRegisterError when the forge says the runner is unknown.
    void run();
    // Polls until one task arrives (at most `wait`; zero: one successful poll), runs it, returns
    // its result; nullopt when no task came.
    std::optional<forge::Result> runOne(std::chrono::milliseconds wait);

    // From any thread (the signal handler's): stop fetching, give running jobs
    // runner.shutdown_timeout, then cancel them. A second call cancels at once.
    void shutdown();

  private:
    void declare();
    // One FetchTask; starts a task's job thread. Returns whether a task came.
    bool pollOnce();
    void startTask(forge::Task task);

    const config::RunnerConfig& config_;
    DaemonParts parts_;
    std::shared_ptr<spdlog::logger> log_;
    int64_t tasks_version_ = 0;
    // Last: its destructor cancels and joins the job threads, which use parts_.
    JobThreads jobs_;
};

}  // namespace nixjail::runner::daemon
