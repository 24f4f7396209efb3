// Debugging a job in its own jail: a job kept after its run (exec --keep, --keep-failed) with its
// directory, workspace, root and network intact, a shell in it (`nixjail-runner shell`), and the
// pause at a failed step (exec --break-on-failure).
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "executor/executor.h"
#include "runner/actions/job_observer.h"

namespace nixjail::runner::engine {

enum class KeepJob {
    kNever,
    kFailed,  // a job that failed keeps its jail (exec --keep-failed)
    kAlways,  // every job does (exec --keep)
};

// A command in a kept job's jail.
struct ShellRequest {
    // Empty: an interactive shell (bash, else sh, from the step's PATH in the job's root).
    std::vector<std::string> argv;
    executor::StepStdio stdio;
    // Set: the job's steps from this one (1-based, among the job's own steps) up to the one that
    // failed run again first, their log going to `observer`.
    std::optional<std::size_t> from_step;
    actions::JobObserver* observer = nullptr;  // the re-run steps' log; null: discarded
    std::stop_token cancel;
};

struct ShellResult {
    executor::StepResult step;
    // The proxy's decisions while the command ran, as the job log shows them.
    std::vector<std::string> network;
};

struct KeptJobInfo {
    std::string job;       // the job's id in its workflow
    std::string name;      // its display name ("build (linux, 1)")
    std::string workflow;  // the workflow file
    std::string result;    // "failure", "success", "cancelled"
    std::string step;      // the step whose environment a shell gets ("2: Run make"); may be empty
    std::size_t steps = 0;  // the job's own steps (the range of ShellRequest::from_step)
    std::filesystem::path dir;  // the job directory
};

// A job whose jail outlived its run. Destroying it releases everything the job held, as the end
// of an ordinary job does.
class KeptJob {
  public:
    virtual ~KeptJob() = default;
    virtual KeptJobInfo info() const = 0;
    // Runs the request in the job's jail: its root, workspace, network and proxy, as its user,
    // under its limits and seccomp, with the environment of the step that failed (else of its
    // last step). One at a time; throws base::Error for a request that cannot run (a step number
    // out of range).
    virtual ShellResult shell(const ShellRequest& request) = 0;
};

// Where kept jobs go (exec: the process that stays behind to serve `shell`).
class JobKeeper {
  public:
    virtual ~JobKeeper() = default;
    // Takes the job. Throws base::Error when it cannot be kept (the kept jobs' budget); the job
    // is then released by the caller.
    virtual void adopt(std::unique_ptr<KeptJob> job) = 0;
};

// exec --break-on-failure: what to do after the shell at a failed step.
enum class FailureChoice {
    kRetry,     // run the step again
    kContinue,  // the step stays failed; the job goes on as it would have
    kIgnore,    // the step counts as succeeded (as continue-on-error); the job goes on
    kAbort,     // stop the job now (cancelled)
};

struct FailedStep {
    std::string name;
    std::size_t index = 0;
    std::string error;
    // Runs argv (empty: an interactive shell) in the job's jail with the failed step's
    // environment and working directory, attached to `stdio`.
    std::function<executor::StepResult(const std::vector<std::string>& argv,
                                       const executor::StepStdio& stdio)>
        shell;
};

// Called on the job's thread when a step fails (its conclusion, after continue-on-error), before
// any later step runs; calls for different jobs may come at once.
using OnStepFailure = std::function<FailureChoice(const FailedStep& step)>;

}  // namespace nixjail::runner::engine
