// StepTally: a step's row holds its nested steps' usage and timeouts; the job's usage holds all.
#include "runner/daemon/step_tally.h"

#include <string>
#include <utility>

namespace nixjail::runner::daemon {

namespace {

std::string statusOf(actions::Result r) {
    switch (r) {
        case actions::Result::kSuccess:
            return "success";
        case actions::Result::kFailure:
            return "failure";
        case actions::Result::kCancelled:
            return "cancelled";
        case actions::Result::kSkipped:
            return "skipped";
    }
    return "failure";
}

}  // namespace

void StepTally::started(int64_t now_ms) {
    if (auto index = nesting_.started()) {
        started_ms_[*index] = now_ms;
        step_usage_ = {};
        step_timed_out_ = false;
    }
}

std::optional<store::StepRecord> StepTally::finished(const actions::StepRecord& step,
                                                     int64_t now_ms) {
    // Nested steps' processes count for the job's step around them and for the job.
    step_usage_.add(step);
    job_usage_.add(step);
    auto index = nesting_.finished();
    if (!index) {
        step_timed_out_ = step_timed_out_ || step.timed_out;
        return std::nullopt;
    }
    const ProcessUsage used = std::exchange(step_usage_, {});
    store::StepRecord rec;
    rec.index = *index;
    rec.name = step.name;
    rec.status = statusOf(step.conclusion);
    rec.ended_at_ms = now_ms;
    auto it = started_ms_.find(*index);
    rec.started_at_ms = it == started_ms_.end() ? now_ms : it->second;
    if (step.exit_code >= 0) rec.exit_code = step.exit_code;
    rec.duration_ms = step.duration.count();
    rec.peak_memory_bytes = used.peakMemory();
    rec.cpu_seconds = used.cpuSeconds();
    rec.oom = step.error.find("out of memory") != std::string::npos;
    // Nested steps' timeouts count for the job's step around them, as their processes do.
    rec.timed_out = std::exchange(step_timed_out_, false) || step.timed_out;
    return rec;
}

}  // namespace nixjail::runner::daemon
