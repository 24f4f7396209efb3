// The jail's self-check: before a job's first step, the runner runs nixjail-jail-check in the
// job's jail (executor/jail_check/) and compares the cgroup limits the backend saw applied with
// the ones it asked for. A jail that broke a promise (a capability left, no seccomp filter, a
// route out, a writable store, a missing limit) runs no step: a kernel or a configuration that
// silently weakens the jail is refused, not trusted.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "executor/executor.h"
#include "executor/jail_check/jail_promises.h"

namespace nixjail::runner::engine {

struct JailCheckReport {
    std::vector<executor::PromiseCheck> checks;  // in a fixed order; cgroup last
    std::chrono::milliseconds duration{0};

    bool passed() const;
    // "network (not only loopback: interface eth0); cgroup (no memory limit ...)".
    std::string failures() const;
};

// Where the program is when the caller names none: beside the running executable.
std::filesystem::path defaultJailCheckProgram();

struct JailCheckRequest {
    std::filesystem::path program;  // the static nixjail-jail-check on the host
    int temp_fd = -1;               // the job's temp directory, opened by the runner
    std::filesystem::path temp_jail;  // the same directory as steps see it
    executor::Limits limits;          // what the runner asked the executor for
    std::string backend;              // for messages
};

// Places the program in the temp directory, runs it as the jail's first process, removes it.
// Throws base::Error when the program is missing or cannot be copied; a jail that cannot run it
// gives a report whose checks failed, saying why. (Backends with BackendTraits::runs_preludes
// run it in the first step's own jail instead: first_step_jail_check.h.)
JailCheckReport checkJail(executor::Jail& jail, const JailCheckRequest& request, std::stop_token cancel);

// The parts of checkJail, for a check run as a step's prelude.
//
// The program's name in the temp directory (temp_jail / this is its path in the jail).
std::string jailCheckProgramName();
// Puts the program there (a hard link, or a copy on another filesystem); throws base::Error.
void placeJailCheckProgram(const JailCheckRequest& request);
void removeJailCheckProgram(const JailCheckRequest& request);
// How the program's run ended, for the checks it printed no verdict for.
struct JailCheckEnd {
    std::string setup_error;
    int exit_code = -1;
    int term_signal = 0;
    bool timed_out = false;
    bool cancelled = false;
};
// From anything that says how a run ended (executor::StepResult, executor::PreludeResult).
template <class Ran>
JailCheckEnd jailCheckEnd(const Ran& ran) {
    return {.setup_error = ran.setup_error,
            .exit_code = ran.exit_code,
            .term_signal = ran.term_signal,
            .timed_out = ran.timed_out,
            .cancelled = ran.cancelled};
}
// Judges what the program printed, and the limits the backend saw applied (nullopt: a backend
// that applies them itself).
JailCheckReport judgeJailCheck(std::string_view output, const JailCheckEnd& end,
                               const std::optional<executor::AppliedLimits>& applied,
                               const JailCheckRequest& request);
// The job's error when the check failed: "the jail's self-check failed, so no step ran: ...".
std::string jailCheckRefusal(const JailCheckReport& report, const std::string& backend);

}  // namespace nixjail::runner::engine
