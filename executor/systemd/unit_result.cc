// Parses the recorder's output: systemd's SERVICE_RESULT/EXIT_CODE/EXIT_STATUS environment of
// ExecStopPost= and the unit cgroup's accounting files.
#include "executor/systemd/unit_result.h"

#include <signal.h>
#include <string.h>

#include <iterator>
#include <sstream>

#include "executor/jail_check/jail_promises.h"

namespace nixjail::executor::sysd {

namespace {

int signalNumber(const std::string& name) {
    for (int s = 1; s < NSIG; ++s) {
        const char* abbrev = ::sigabbrev_np(s);
        if (abbrev && name == abbrev) return s;
    }
    try {
        return std::stoi(name);
    } catch (const std::exception&) {
        return 0;
    }
}

}  // namespace

// systemd's exit-status.h (EXIT_CHDIR = 200 onwards): the codes its service setup exits with.
const char* setupStatusName(int status) {
    static constexpr const char* kNames[] = {
        "CHDIR",          "NICE",           "FDS",
        "EXEC",           "MEMORY",         "LIMITS",
        "OOM_ADJUST",     "SIGNAL_MASK",    "STDIN",
        "STDOUT",         "CHROOT",         "IOPRIO",
        "TIMERSLACK",     "SECUREBITS",     "SETSCHEDULER",
        "CPUAFFINITY",    "GROUP",          "USER",
        "CAPABILITIES",   "CGROUP",         "SETSID",
        "CONFIRM",        "STDERR",         "setup",
        "PAM",            "NETWORK",        "NAMESPACE",
        "NO_NEW_PRIVILEGES", "SECCOMP",     "SELINUX_CONTEXT",
        "PERSONALITY",    "APPARMOR_PROFILE", "ADDRESS_FAMILIES",
        "RUNTIME_DIRECTORY", "setup",       "CHOWN",
        "SMACK_PROCESS_LABEL", "KEYRING",   "STATE_DIRECTORY",
        "CACHE_DIRECTORY", "LOGS_DIRECTORY", "CONFIGURATION_DIRECTORY",
        "NUMA_POLICY",    "CREDENTIALS",
    };
    static_assert(std::size(kNames) == 244 - 200);
    if (status < 200 || status > 243) return nullptr;
    return kNames[status - 200];
}


void applyUnitResult(const std::string& text, StepResult& result) {
    std::istringstream in(text);
    std::string headLine;
    std::getline(in, headLine);
    std::istringstream head(headLine);
    std::string serviceResult, exitCode, exitStatus;
    if (!(head >> serviceResult)) {
        result.setup_error = "result: systemd reported no result for the unit (recorder wrote '" +
                             text.substr(0, 80) + "')";
        return;
    }
    // Both are empty when the unit failed before it had a main process.
    head >> exitCode >> exitStatus;
    result.oom_killed = serviceResult == "oom-kill";
    if (serviceResult == "timeout") result.timed_out = true;
    if (exitCode == "exited") {
        int status = -1;
        try {
            status = std::stoi(exitStatus);
        } catch (const std::exception&) {
            result.setup_error = "result: unreadable exit status '" + exitStatus + "'";
            return;
        }
        const char* setup = setupStatusName(status);
        if (setup) {
            result.setup_error = "systemd: the unit's setup failed with status " +
                                 std::to_string(status) + " (" + setup +
                                 "); see `journalctl -u` for the unit";
        } else {
            result.exit_code = status;
        }
    } else if (exitCode == "killed" || exitCode == "dumped") {
        result.exit_code = -1;
        result.term_signal = signalNumber(exitStatus);
    } else if (serviceResult != "success") {
        // No main process status: the unit failed before or without running it.
        result.setup_error = "systemd: the unit ended with result '" + serviceResult + "'";
    } else {
        result.exit_code = 0;
    }
    // Accounting lines: a bare number is the peak memory (v2 memory.peak, v1
    // memory.max_usage_in_bytes), then v2 cpu.stat's, and v1's "oom_kill N" (systemd reports
    // no oom-kill result on v1).
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string first, second;
        ls >> first >> second;
        if (first.empty()) continue;
        if (first == "limit_memory" || first == "limit_pids") {
            if (!result.applied_limits) result.applied_limits.emplace();
            (first == "limit_memory" ? result.applied_limits->memory_max_bytes
                                     : result.applied_limits->pids_max) = parseCgroupLimit(second);
            continue;
        }
        try {
            if (second.empty()) {
                result.peak_memory_bytes = std::stoull(first);
            } else if (first == "usage_usec") {
                result.cpu_time = std::chrono::milliseconds(std::stoull(second) / 1000);
            } else if (first == "oom_kill" && std::stoull(second) > 0) {
                result.oom_killed = true;
            }
        } catch (const std::exception&) {
            // Accounting is best effort; a malformed line leaves the field at 0.
        }
    }
}

}  // namespace nixjail::executor::sysd
