// StepTally: turns the observer's step events into the rows of the job's own steps. A composite
// action's nested steps get no row: their processes' usage and their timeouts count for the
// job's step around them. Not thread-safe: JobRecorder calls it under its lock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "runner/actions/job_observer.h"
#include "runner/daemon/process_usage.h"
#include "runner/daemon/step_nesting.h"
#include "runner/store/job_store.h"

namespace nixjail::runner::daemon {

class StepTally {
  public:
    void started(int64_t now_ms);
    // The row of the job's step that finished; nullopt for a nested step.
    std::optional<store::StepRecord> finished(const actions::StepRecord& step, int64_t now_ms);
    // What the processes of all steps so far used.
    const ProcessUsage& jobUsage() const { return job_usage_; }

  private:
    StepNesting nesting_;
    std::map<int64_t, int64_t> started_ms_;  // by the job's step index
    ProcessUsage step_usage_;                // of the job's step that runs now
    ProcessUsage job_usage_;
    bool step_timed_out_ = false;  // a nested step of the running one timed out
};

}  // namespace nixjail::runner::daemon
