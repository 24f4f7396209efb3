// JobRecorder: a JobObserver that writes the job's steps and phases to the JobStore and the
// metrics. A database failure is logged and never fails the job.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>

#include "proxy/proxy.h"
#include "runner/daemon/metrics.h"
#include "runner/daemon/step_tally.h"
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
    void jailChecks(const std::vector<store::JailCheckRecord>& checks);
    // What a replay of the job needs (replay_record.h's replayJson: never a secret's value),
    // replacing what was recorded before.
    void replay(const std::string& record);
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
    StepTally steps_;
    // The job's row at its end: the closure and actions/cache facts as they arrive; finish() adds
    // the status, the time and the usage.
    store::JobFinish end_;
};

int64_t nowMs();

}  // namespace nixjail::runner::daemon
