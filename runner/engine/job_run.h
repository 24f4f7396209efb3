// JobRun: the state of one running job instance (one matrix combination) and the steps it runs.
// Private to runner/engine; callers use job_runner.h.
#pragma once

#include <chrono>
#include <functional>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "executor/executor.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"
#include "runner/engine/actions_names.h"
#include "runner/actions/command_file.h"
#include "runner/actions/job_observer.h"
#include "runner/actions/node_action.h"
#include "runner/engine/job_credentials.h"
#include "runner/engine/job_root.h"
#include "runner/engine/job_runner.h"
#include "runner/engine/job_sandbox.h"
#include "runner/engine/run_options.h"
#include "runner/actions/secret_masker.h"
#include "runner/job/job_plan.h"
#include "runner/network/job_network.h"
#include "runner/expr/expr.h"
#include "runner/workflow/workflow.h"
#include "workspace-cache/job_volume.h"

namespace nixjail::runner::engine {

using Json = nlohmann::json;

// Where nested steps run: the job itself, or a composite action with its own inputs and steps.
struct StepScope {
    Json steps = Json::object();   // the steps context of this scope
    Json inputs = Json::object();  // inputs context
    workflow::EnvList env;         // env added by the enclosing composite step
    // The running step's own env, evaluated before its `if`: part of the env context for its
    // condition, name, inputs, script and working directory (cleared when the step ends).
    workflow::EnvList step_env;
    std::filesystem::path action_path;  // composite actions: the action directory as steps see it
    std::string action_repository;
    bool failed = false;           // a step in this scope failed
    std::string name_prefix;       // "Run owner/action" for nested step names
};

// A random name for a step's script and command files.
std::string uniqueName();

class JobRun {
public:
    JobRun(const JobInstance& instance, const RunOptions& opts, JobObserver& observer,
           SecretMasker& masker, std::stop_token cancel);
    JobOutcome run();

private:
    // job_run.cc
    void prepareEnvironment();
    // Isolating executors: the forge tokens become proxy credentials and the job sees their dummies.
    void prepareCredentials();
    std::vector<std::string> forgeHosts() const;  // of github.server_url and api_url
    void prepareJail();
    // The job's network namespace and proxy (isolating executors).
    void prepareNetwork();
    // Moves the proxy's audit records into network_audit_ and the job log.
    void drainNetworkAudit(std::vector<proxy::AuditRecord> records);
    std::vector<std::string> jobPackages() const;  // declared: opts_.packages, NIXJAIL_PACKAGES
    // job_root_request.cc: the declared packages, the runs-on labels, the packages actions need.
    RootRequest rootRequest();
    // Added to "python3: not in this job's root; ..." (missing_program.h).
    std::string missingProgramNote() const;
    bool runSteps(const std::vector<workflow::Step>& steps, StepScope& scope);
    StepRecord runStep(const workflow::Step& step, StepScope& scope);
    bool shouldRun(const workflow::Step& step, StepScope& scope, StepRecord& rec);
    expr::EvalContext context(const StepScope* scope) const;
    Json envContext(const workflow::EnvList& extra = {}) const;
    std::string stepDisplayName(const workflow::Step& step, const StepScope& scope) const;
    void log(LineKind kind, const std::string& text);
    std::optional<std::chrono::milliseconds> stepTimeout(const workflow::Step& step, const StepScope& scope);
    void finishOutputs(JobOutcome& outcome);
    void phaseDone(JobOutcome& outcome, PhaseRecord record);
    void reportRootPhases(JobOutcome& outcome);
    void reportProxyPhase(JobOutcome& outcome);

    // script_step.cc: `run:` steps; fills rec.exit_code and rec.outputs, returns success.
    bool runScript(const workflow::Step& step, StepScope& scope, StepRecord& rec,
                   const std::vector<std::pair<std::string, std::string>>& stepEnv,
                   const std::optional<std::chrono::milliseconds>& timeout);
    // False when the step's working-directory `dir` certainly does not exist. Judged on the
    // host only below the workspace, without following a link out of it; anything else (an
    // absolute path or a link in a jail) is left to the jail's chdir.
    bool workingDirectoryMayExist(const std::filesystem::path& dir) const;
    // The defaults, workflow/job env and GITHUB_ENV, stepEnv, then the runner's GITHUB_* and
    // RUNNER_* values, which no env overrides (CI, HOME and PATH may be).
    std::vector<std::string> processEnvironment(const std::vector<std::pair<std::string, std::string>>& stepEnv) const;
    std::string evalString(const std::string& text, const StepScope* scope, const std::string& what);
    // Runs one process as a step with fresh command files (GITHUB_OUTPUT, _ENV, _PATH, _STATE,
    // _STEP_SUMMARY) and the workflow-command processor; makeArgv gets the process environment and
    // the step's unique id. `state` (may be null) receives ::save-state:: and GITHUB_STATE.
    bool runProcess(const workflow::Step& step, const StepScope& scope, StepRecord& rec,
                    const std::vector<std::pair<std::string, std::string>>& stepEnv,
                    const std::filesystem::path& cwdJail, const std::optional<std::chrono::milliseconds>& timeout,
                    KeyValues* state,
                    const std::function<std::vector<std::string>(const std::vector<std::string>& processEnv,
                                                                 const std::string& id)>& makeArgv);

    // action_step.cc: `uses:` steps.
    bool runAction(const workflow::Step& step, StepScope& scope, StepRecord& rec,
                   const std::vector<std::pair<std::string, std::string>>& stepEnv);
    bool runCheckout(const workflow::Step& step, StepScope& scope, StepRecord& rec);
    // node_action_step.cc: JavaScript actions (pre and main now, post queued for the job's end).
    bool runNodeAction(const workflow::Step& step, StepScope& scope, StepRecord& rec,
                       const std::vector<std::pair<std::string, std::string>>& stepEnv,
                       const ActionManifest& manifest, const ActionLocation& where);
    // The pre steps of the job's remote JavaScript actions, in step order, before its first step
    // (as GitHub's "Pre Run ..." steps), each when its pre-if holds; their state goes to main.
    void runPreSteps(StepScope& top);
    // The queued post steps, newest first, after the job's steps (also after failures).
    void runPostSteps(StepScope& top);
    // The end of a pre or post step run at the job's edge: its outcome, record and report.
    void finishEdgeStep(StepRecord rec, bool ok, std::chrono::steady_clock::time_point start,
                        StepScope& top);
    // The step's env with INPUT_* for `with:` and the manifest's defaults (evaluated in scope).
    std::vector<std::pair<std::string, std::string>> nodeActionEnv(
        const workflow::Step& step, StepScope& scope,
        const std::vector<std::pair<std::string, std::string>>& stepEnv,
        const ActionManifest& manifest);
    // Runs one pre/main/post script as the step `rec` with STATE_* from `state`, to which it
    // adds what the script saved.
    bool runNodeScript(const workflow::Step& step, const StepScope& actionScope, StepRecord& rec,
                       const std::vector<std::pair<std::string, std::string>>& env,
                       const std::optional<std::chrono::milliseconds>& timeout,
                       const std::filesystem::path& script, const std::string& phase,
                       const std::string& what, KeyValues& state);
    // Whether the job's `uses:` actions that can be resolved before it starts include JavaScript
    // ones (remote actions are fetched here); decides whether the root gets opts_.node_package.
    bool jobUsesNodeActions();
    // Whether steps run without writable+executable memory (the strict profile in a jail), so
    // node must run without its JIT.
    bool jitless() const;
    // Fetches a remote action into the job's read-only actions directory.
    ActionLocation remoteAction(const std::string& uses);
    // checkout_submodules.cc: the submodules of a checkout, each through the checkout cache.
    void checkoutSubmodules(const CheckoutLease& parent, const CheckoutSpec& parentSpec,
                            const std::filesystem::path& dest, const std::string& shown, bool recursive,
                            int depth);

    const JobInstance& instance_;
    const RunOptions& opts_;
    // How this job is built on this executor (paths, root, network, credentials, owner), decided
    // once from the executor's traits and the job's policy.
    const job::JobPlan plan_;
    JobObserver& observer_;
    SecretMasker& masker_;
    std::stop_source job_stop_;  // fired by the caller's cancel or the job timeout
    std::stop_callback<std::function<void()>> forward_cancel_;

    // The job's resources (directories, volume, root, network, checkouts, jail), made in the
    // phases of run() and released by its destructor; null before the first phase and after the
    // last. dirs_: its directories (empty JobPaths until it exists).
    std::unique_ptr<JobSandbox> sandbox_;
    JobDirectories dirs_;
    // What the job's proxy injects: the admin's credentials and, for isolating executors, the
    // forge's tokens (whose dummies replace them in github.* and secrets.*). Set before the job's
    // env is evaluated, so no expression ever sees a real value.
    std::optional<JobCredentials> credentials_;
    std::vector<proxy::AuditRecord> network_audit_;

    workflow::EnvList env_;             // workflow + job env, then GITHUB_ENV additions
    std::vector<std::string> path_prepend_;  // GITHUB_PATH, newest first
    Json github_;
    std::string job_status_ = "success";  // success | failure | cancelled
    const StepScope* top_ = nullptr;        // the job's own steps; its failure is the job's
    bool cancelled_ = false;
    bool timed_out_ = false;
    std::chrono::steady_clock::time_point deadline_;
    size_t next_index_ = 1;
    // The running step's command-file name (github.env and github.path show it); empty between
    // steps. The last one a process used, so that a step's second process gets new files.
    std::string step_files_id_;
    std::string step_files_used_;
    std::vector<StepRecord> records_;
    std::vector<PostStep> posts_;  // JavaScript actions' post steps, in the order of their mains
    // The state of each job step whose pre ran (or was skipped) at the job's start.
    std::map<const workflow::Step*, KeyValues> pre_states_;
    bool needs_node_ = false;      // add opts_.node_package to the root
    std::string summary_;  // GITHUB_STEP_SUMMARY contents of all steps
    struct CheckoutStats {
        std::chrono::milliseconds time{0};  // spent in actions/checkout steps
        int count = 0;
        int cached = 0;  // served from the checkout cache
    } checkout_stats_;
};

}  // namespace nixjail::runner::engine
