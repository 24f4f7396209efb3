// JobRecorder: a JobObserver that writes the job's steps and phases to the JobStore and the
// metrics. A database failure is logged and never fails the job.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "proxy/proxy.h"
#include "runner/daemon/metrics.h"
#include "runner/daemon/step_nesting.h"
#include "runner/actions/job_observer.h"
#include "runner/store/job_store.h"

namespace nixjail::runner::daemon {

class JobRecorder : public actions::JobObserver {
  public:
    JobRecorder(store::JobStore& store, Metrics& metrics, std::shared_ptr<spdlog::logger> log);

    // Records the job as running; returns false when the database refused (the job still runs).
    bool start(const store::JobStart& start);
    void stepStarted(const actions::StepRecord& step) override;
    void line(const actions::LogLine&) override {}
    void stepFinished(const actions::StepRecord& step) override;
    void phaseFinished(const actions::PhaseRecord& phase) override;
    void networkDecision(const proxy::AuditRecord& record);
    // What the job did with the runner's actions/cache server (recorded by finish()).
    void actionsCache(const store::ActionsCacheUsage& usage);
    // status: success | failure | cancelled | skipped.
    void finish(const std::string& status, const std::string& exit_reason);

  private:
    template <class F>
    void guarded(const char* what, F&& f);

    store::JobStore& store_;
    Metrics& metrics_;
    std::shared_ptr<spdlog::logger> log_;
    std::mutex mutex_;
    std::optional<int64_t> job_id_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    StepNesting nesting_;
    std::map<int64_t, int64_t> step_started_ms_;
    std::optional<int64_t> closure_paths_, closure_bytes_;
    std::optional<store::ActionsCacheUsage> actions_cache_;
    // What the processes used: of the job's step that runs now (nested steps of a composite
    // action count for their parent), and of the whole job. Unset until a step reports a value.
    struct Usage {
        std::optional<std::chrono::milliseconds> cpu;
        std::optional<uint64_t> peak_memory_bytes;
        void add(const actions::StepRecord& step);
    };
    Usage step_usage_, job_usage_;
    bool step_timed_out_ = false;  // a nested step of the running one timed out
};

int64_t nowMs();

}  // namespace nixjail::runner::daemon
