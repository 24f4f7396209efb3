// Calling a reusable workflow (jobs.<id>.uses): the called file's jobs run as a nested run named
// "<caller> / <callee>", with the call's inputs and secrets, and its on.workflow_call.outputs
// become the calling job's outputs.
#pragma once

#include <stop_token>
#include <vector>

#include "runner/engine/job_runner.h"
#include "runner/engine/workflow_runner.h"
#include "runner/expr/expr.h"

namespace nixjail::runner::engine {

// GitHub's limit on nested calls ("up to ten levels of workflows").
inline constexpr int kMaxCallDepth = 10;

struct CallResult {
    JobOutcome outcome;            // the calling job's: the nested run's result and outputs
    std::vector<JobReport> jobs;  // the called jobs, named "<caller> / <callee>"
};

// Runs the workflow `caller.job->uses` names: "./.github/workflows/<file>" from opts.repo_dir,
// or "owner/repo/.github/workflows/<file>@ref" fetched like a remote action. `ctx` is the
// caller's job-level context (github, needs, strategy, matrix, vars, inputs, secrets), in which
// `with:` and `secrets:` are evaluated. Throws base::Error for a call that cannot start: a missing
// or invalid file, one without on.workflow_call, an undeclared or missing required input or
// secret, nesting past kMaxCallDepth.
CallResult runWorkflowCall(const JobInstance& caller, const RunOptions& opts,
                           const expr::EvalContext& ctx, RunReporter& reporter,
                           SecretMasker& masker, std::stop_token cancel);

}  // namespace nixjail::runner::engine
