// JobContext: what the parts of one running job share. The job's instance and options, its plan,
// observer and masker and stop source; the sandbox and credentials once made; and the Actions state
// that steps change and contexts read. JobRunner owns it; the step parts (step_parts.h) hold a
// reference to it for the job's lifetime.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "runner/engine/actions_names.h"
#include "runner/engine/job_credentials.h"
#include "runner/engine/job_runner.h"
#include "runner/engine/job_sandbox.h"
#include "runner/engine/run_options.h"
#include "runner/job/job_plan.h"
#include "runner/workflow/workflow.h"

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

// A string map as a JSON object (the vars and secrets contexts, step outputs).
Json toJson(const std::map<std::string, std::string>& m);

// timeout-minutes: a number (fractions allowed) -> milliseconds; nullopt for null or invalid.
std::optional<std::chrono::milliseconds> timeoutMinutes(const Json& v);

// What steps change and every later step sees.
struct ActionsState {
    Json github;                             // the github context (forge tokens as dummies)
    workflow::EnvList env;                   // workflow + job env, then GITHUB_ENV additions
    std::vector<std::string> path_prepend;   // GITHUB_PATH, newest first
    std::string summary;                     // GITHUB_STEP_SUMMARY contents of all steps
    Json services;   // job.services once the job's services run (null: none)
    Json container;  // job.container of a job with `container:` (null: none)
    // The running step's command-file name (github.env and github.path show it); empty between
    // steps. The last one a process used, so that a step's second process gets new files.
    std::string step_files_id;
    std::string step_files_used;
};

// A process a step ran, as a shell in the job's jail gets it again (kept_job.h).
struct StepProcessView {
    std::vector<std::string> env;  // KEY=VALUE, exactly what the process saw
    std::filesystem::path cwd;     // in the jail
    std::string step;              // "2: Run make"
};

// How the job stands.
struct JobStatus {
    std::string job = "success";          // success | failure | cancelled
    const StepScope* top = nullptr;       // the job's own steps; its failure is the job's
    bool cancelled = false;
    bool timed_out = false;
    std::chrono::steady_clock::time_point deadline;
    size_t next_index = 1;                // the next step record's index
    std::vector<StepRecord> records;      // every step that ran or was skipped, in order
    std::optional<StepProcessView> last_process;    // of the last step that ran a process
    std::optional<StepProcessView> failed_process;  // of the last step whose process failed
    std::optional<std::size_t> failed_top_step;     // the first of the job's own steps to fail (1-based)
};

struct StepParts;

struct JobContext {
    const JobInstance& instance;
    const RunOptions& opts;
    const job::JobPlan& plan;
    JobObserver& observer;
    SecretMasker& masker;
    std::stop_source& stop;  // fired by the caller's cancel or the job timeout
    StepParts* parts = nullptr;  // the step parts, set by JobRunner before any step runs
    // Made in the phases of JobRunner::run; null before the first phase and after the last.
    std::unique_ptr<JobSandbox> sandbox;
    std::optional<JobCredentials> credentials;  // set before the job's env is evaluated
    ActionsState state;
    JobStatus status;
    std::vector<proxy::AuditRecord> network_audit;  // the proxy's decisions, oldest first

    // The sandbox's directories; empty paths before it exists (a job-level expression evaluated
    // first, such as timeout-minutes, sees runner.temp empty).
    const JobDirectories& dirs() const {
        static const JobDirectories kNone;
        return sandbox ? sandbox->dirs() : kNone;
    }
    // One line of the job's log, masked.
    void log(LineKind kind, const std::string& text) { observer.line({kind, masker.mask(text)}); }
    // Moves the proxy's audit records into network_audit and the job log.
    void recordAudit(std::vector<proxy::AuditRecord> records);
};

}  // namespace nixjail::runner::engine
