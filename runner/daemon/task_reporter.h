// TaskReporter: a JobObserver that turns a running job into the forge's view of the task: step
// states with times, results and log ranges (UpdateTask) and log rows in acknowledged batches
// (UpdateLog). flush() runs periodically on another thread and tells whether the forge cancelled.
#pragma once

#include <spdlog/logger.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>

#include "runner/daemon/step_nesting.h"
#include "runner/actions/job_observer.h"
#include "runner/forge/forge_client.h"
#include "runner/forge/log_buffer.h"

namespace nixjail::runner::daemon {

forge::Result toForgeResult(actions::Result r);

class TaskReporter : public actions::JobObserver {
  public:
    // step_count: the number of steps in the job's `steps:` list (the forge made one row each).
    // step_debug: send ::debug:: lines and the runner's debug rows (ACTIONS_STEP_DEBUG); without
    // it they are dropped, as on GitHub.
    TaskReporter(forge::ForgeClient& client, int64_t task_id, size_t step_count,
                 std::shared_ptr<spdlog::logger> log, bool step_debug = false);

    void stepStarted(const actions::StepRecord& step) override;
    void line(const actions::LogLine& line) override;
    void stepFinished(const actions::StepRecord& step) override;

    // A line from the runner itself (already masked by the caller).
    void runnerLine(const std::string& text);

    // Sends the unacknowledged log rows and the current state. Returns the forge's view of the
    // task (Cancelled: stop the job). Throws forge::ForgeError.
    forge::Result flush();

    // The final report: unfinished steps get `result` (or skipped), the log is sealed, the outputs
    // and the result are sent. Retries retryable errors with backoff until `give_up` is
    // requested, calling `retrying` before each retry; throws the last error then, or at once for
    // a non-retryable one.
    void finish(forge::Result result, const std::map<std::string, std::string>& outputs,
                std::stop_token give_up, const std::function<void()>& retrying = {});

    int64_t taskId() const { return task_id_; }

  private:
    forge::TaskState snapshot();
    void sendOutputs(std::map<std::string, std::string>& unsent);
    void uploadPending(bool no_more);

    forge::ForgeClient& client_;
    const int64_t task_id_;
    std::shared_ptr<spdlog::logger> log_;
    std::mutex mutex_;       // guards everything below
    std::mutex send_mutex_;  // one sender at a time (the flusher or finish)
    forge::LogBuffer buffer_;
    forge::TaskState state_;
    StepNesting nesting_;
    const bool step_debug_;
    bool sealed_ = false;
};

}  // namespace nixjail::runner::daemon
