// The parts a job's steps are run by, each over the job's shared JobContext: expression contexts,
// the step loop, the process of a step, `run:` steps, `uses:` steps (checkout, composite) and
// JavaScript actions. They call each other through StepParts (a composite step runs steps, a step
// evaluates expressions); JobRunner makes them and drives the job's phases.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runner/actions/command_file.h"
#include "runner/actions/node_action.h"
#include "runner/engine/job_context.h"
#include "runner/expr/expr.h"

namespace nixjail::runner::engine {

using StepEnv = std::vector<std::pair<std::string, std::string>>;

// The value of `key` in a KEY=VALUE environment; empty when absent.
std::string envValue(const std::vector<std::string>& env, const std::string& key);

// The expression contexts (github, env, vars, secrets, job, runner, strategy, matrix, needs,
// inputs, steps) as a scope sees them.
class StepContexts {
  public:
    explicit StepContexts(JobContext& job) : job_(job) {}
    // Every context, copied: build it only for text that has an expression (expr::containsExpression);
    // a job's plain values (a `run: true` step's script, shell, name) skip it.
    expr::EvalContext build(const StepScope* scope) const;
    Json env(const workflow::EnvList& extra = {}) const;
    // success() in `scope`: the job neither cancelled nor failed, nor the enclosing step (a
    // composite's).
    bool succeeded(const StepScope* scope) const;
    // `text` with its ${{ }} evaluated in `scope`; throws base::Error naming `what`.
    std::string eval(const std::string& text, const StepScope* scope, const std::string& what) const;

  private:
    // The step (a composite's) or the job's top level has failed.
    bool scopeFailed(const StepScope* scope) const;
    // success() once whether the scope failed is known.
    bool successGiven(bool scope_failed) const;

    JobContext& job_;
};

// The step loop: conditions, status, continue-on-error, timeouts, step records.
class StepRunner {
  public:
    explicit StepRunner(JobContext& job) : job_(job) {}
    bool runSteps(const std::vector<workflow::Step>& steps, StepScope& scope);
    StepRecord runStep(const workflow::Step& step, StepScope& scope);
    // timeout-minutes, bounded by the time the job has left.
    std::optional<std::chrono::milliseconds> stepTimeout(const workflow::Step& step, const StepScope& scope);
    std::string stepDisplayName(const workflow::Step& step, const StepScope& scope) const;

  private:
    bool shouldRun(const workflow::Step& step, StepScope& scope, StepRecord& rec);
    // RunOptions::on_step_failure for the step `rec` records.
    FailureChoice askAfterFailure(const StepRecord& rec);

    JobContext& job_;
};

// One process as a step: fresh command files (GITHUB_OUTPUT, _ENV, _PATH, _STATE,
// _STEP_SUMMARY), the environment, the workflow-command processor, the result.
class StepProcess {
  public:
    // Writes a file of the step's own (its script) where its command files are, and returns the
    // path the step sees it at.
    using WriteStepFile = std::function<std::filesystem::path(const std::string& name, const std::string& content,
                                                              const std::string& what)>;
    using MakeArgv = std::function<std::vector<std::string>(const std::vector<std::string>& processEnv,
                                                            const std::string& id, const WriteStepFile& write)>;
    explicit StepProcess(JobContext& job) : job_(job) {}
    // Runs the process makeArgv gives (from the process environment, the step's unique id, and a
    // writer for files of its own);
    // fills rec's exit code and outputs; `state` (may be null) receives ::save-state:: and
    // GITHUB_STATE. Returns success.
    bool run(const workflow::Step& step, const StepScope& scope, StepRecord& rec, const StepEnv& stepEnv,
             const std::filesystem::path& cwdJail, const std::optional<std::chrono::milliseconds>& timeout,
             KeyValues* state, const MakeArgv& makeArgv);
    // The defaults, workflow/job env and GITHUB_ENV, stepEnv, then the runner's GITHUB_* and
    // RUNNER_* values, which no env overrides (CI, HOME and PATH may be).
    std::vector<std::string> environment(const StepEnv& stepEnv) const;
    // Runs argv (empty: an interactive shell, bash else sh) in the job's jail attached to
    // `stdio`, with the environment and working directory of the last step whose process failed
    // (else of the last step that ran one; else the job's defaults in the workspace).
    executor::StepResult attach(const std::vector<std::string>& argv, const executor::StepStdio& stdio,
                                std::stop_token cancel) const;

  private:
    JobContext& job_;
};

// `run:` steps: the script file, the shell, the working directory.
class ScriptStep {
  public:
    explicit ScriptStep(JobContext& job) : job_(job) {}
    bool run(const workflow::Step& step, StepScope& scope, StepRecord& rec, const StepEnv& stepEnv,
             const std::optional<std::chrono::milliseconds>& timeout);

  private:
    // False when the step's working-directory `dir` certainly does not exist. Judged on the
    // host only below the workspace, without following a link out of it; anything else (an
    // absolute path or a link in a jail) is left to the jail's chdir.
    bool workingDirectoryMayExist(const std::filesystem::path& dir) const;

    JobContext& job_;
};

// `uses:` steps: actions/checkout (native, with submodules), local and remote composite actions,
// and the fetching of remote actions.
class ActionStep {
  public:
    struct CheckoutStats {
        std::chrono::milliseconds time{0};  // spent in actions/checkout steps
        int count = 0;
        int cached = 0;  // served from the checkout cache
    };
    explicit ActionStep(JobContext& job) : job_(job) {}
    bool run(const workflow::Step& step, StepScope& scope, StepRecord& rec, const StepEnv& stepEnv);
    // Fetches a remote action into the job's read-only actions directory.
    ActionLocation remoteAction(const std::string& uses);
    const CheckoutStats& checkoutStats() const { return stats_; }

  private:
    bool runCheckout(const workflow::Step& step, StepScope& scope, StepRecord& rec);
    // The submodules of a checkout, each through the checkout cache.
    void checkoutSubmodules(const CheckoutLease& parent, const CheckoutSpec& parentSpec,
                            const std::filesystem::path& dest, const std::string& shown, bool recursive,
                            int depth);

    JobContext& job_;
    CheckoutStats stats_;
};

// JavaScript actions: pre and main now, post queued for the job's end.
class NodeActionStep {
  public:
    explicit NodeActionStep(JobContext& job) : job_(job) {}
    bool run(const workflow::Step& step, StepScope& scope, StepRecord& rec, const StepEnv& stepEnv,
             const ActionManifest& manifest, const ActionLocation& where);
    // The pre steps of the job's remote JavaScript actions, in step order, before its first step
    // (as GitHub's "Pre Run ..." steps), each when its pre-if holds; their state goes to main.
    void runPreSteps(StepScope& top);
    // The queued post steps, newest first, after the job's steps (also after failures).
    void runPostSteps(StepScope& top);
    // Whether the job's `uses:` actions that can be resolved before it starts include JavaScript
    // ones (remote actions are fetched here); decides whether the root gets the node package.
    bool jobUsesNodeActions();

  private:
    // The end of a pre or post step run at the job's edge: its outcome, record and report.
    void finishEdgeStep(StepRecord rec, bool ok, std::chrono::steady_clock::time_point start, StepScope& top);
    // The step's env with INPUT_* for `with:` and the manifest's defaults (evaluated in scope).
    StepEnv nodeActionEnv(const workflow::Step& step, StepScope& scope, const StepEnv& stepEnv,
                          const ActionManifest& manifest);
    // Runs one pre/main/post script as the step `rec` with STATE_* from `state`, to which it
    // adds what the script saved.
    bool runNodeScript(const workflow::Step& step, const StepScope& actionScope, StepRecord& rec,
                       const StepEnv& env, const std::optional<std::chrono::milliseconds>& timeout,
                       const std::filesystem::path& script, const std::string& phase,
                       const std::string& what, KeyValues& state);

    JobContext& job_;
    std::vector<PostStep> posts_;  // post steps, in the order of their mains
    // The state of each job step whose pre ran (or was skipped) at the job's start.
    std::map<const workflow::Step*, KeyValues> pre_states_;
};

struct StepParts {
    StepContexts contexts;
    StepRunner runner;
    StepProcess process;
    ScriptStep script;
    ActionStep action;
    NodeActionStep node;

    explicit StepParts(JobContext& job)
        : contexts(job), runner(job), process(job), script(job), action(job), node(job) {}
};

}  // namespace nixjail::runner::engine
