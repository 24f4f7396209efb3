// A JobRunner after its run, as a KeptJob: what it tells about itself, and shells in its jail.
#include <algorithm>
#include <utility>

#include "runner/base/error.h"
#include "runner/base/scope_exit.h"
#include "runner/engine/job_runner_impl.h"
#include "runner/network/job_network.h"

namespace nixjail::runner::engine {

bool JobRunner::keepsJail() const {
    if (!job_.opts.keeper || !job_.sandbox || !job_.sandbox->hasJail()) return false;
    switch (job_.opts.keep) {
        case KeepJob::kAlways:
            return true;
        case KeepJob::kFailed:
            return job_.status.job == "failure" || job_.status.timed_out;
        case KeepJob::kNever:
            break;
    }
    return false;
}

KeptJobInfo JobRunner::info() const {
    KeptJobInfo out;
    out.job = instance_.job->id;
    out.name = instance_.display_name.empty() ? instance_.job->id : instance_.display_name;
    out.workflow = instance_.workflow->file.string();
    out.result = job_.status.job;
    const auto& seen = job_.status.failed_process ? job_.status.failed_process : job_.status.last_process;
    if (seen) out.step = seen->step;
    out.steps = instance_.job->steps.size();
    if (job_.sandbox) out.dir = job_.sandbox->dir();
    return out;
}

void JobRunner::rerunSteps(std::size_t from) {
    const auto& steps = instance_.job->steps;
    const std::size_t last = job_.status.failed_top_step.value_or(steps.size());
    if (from < 1 || from > last) {
        throw base::Error("--step " + std::to_string(from) + " is out of range: the job's steps run again from 1 to " +
                          std::to_string(last) + (job_.status.failed_top_step ? " (the step that failed)" : ""));
    }
    // A fresh run of those steps: the job's time limit counts again, and an earlier failure or
    // cancel does not skip them.
    if (stop_.stop_requested()) stop_ = std::stop_source();
    job_.status.cancelled = job_.status.timed_out = false;
    job_.status.deadline = std::chrono::steady_clock::now() + job_timeout_;
    StepScope scope;
    scope.steps = top_.steps;
    job_.status.top = &scope;
    base::ScopeExit restore([this, result = job_.status.job] {
        job_.status.top = nullptr;
        job_.status.job = result;
    });
    job_.status.job = "success";
    for (std::size_t i = from - 1; i < last && !stop_.stop_requested(); ++i) {
        parts_.runner.runStep(steps[i], scope);
    }
}

ShellResult JobRunner::shell(const ShellRequest& request) {
    std::lock_guard lock(shell_mu_);
    observer_.point(request.observer);
    base::ScopeExit discard([this] { observer_.point(nullptr); });
    std::stop_callback forward(request.cancel, [this] { stop_.request_stop(); });
    if (request.from_step) rerunSteps(*request.from_step);
    ShellResult out;
    out.step = parts_.process.attach(request.argv, request.stdio, request.cancel);
    for (const auto& record : job_.sandbox->takeAuditRecords()) {
        out.network.push_back(job_.masker.mask(network::describeAudit(record)));
    }
    return out;
}

}  // namespace nixjail::runner::engine
