// Parses the recorder's output: systemd's SERVICE_RESULT/EXIT_CODE/EXIT_STATUS environment of
// ExecStopPost= and the unit cgroup's accounting files.
#include "executor/systemd/unit_result.h"

#include <signal.h>
#include <string.h>

#include <sstream>

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

// systemd's exit-status.h: codes its service setup (exec-invoke) exits with.
const char* setupStatusName(int status) {
    switch (status) {
        case 200:
            return "CHDIR";
        case 203:
            return "EXEC";
        case 204:
            return "MEMORY";
        case 208:
            return "SIGNAL_MASK";
        case 210:
            return "CHROOT";
        case 214:
            return "SETSID";
        case 216:
            return "GROUP";
        case 217:
            return "USER";
        case 218:
            return "CAPABILITIES";
        case 226:
            return "NAMESPACE";
        case 228:
            return "SECCOMP";
        case 231:
            return "APPARMOR";
        case 233:
            return "PERSONALITY";
        case 235:
            return "CGROUP";
        default:
            return status >= 200 && status <= 243 ? "setup" : nullptr;
    }
}

}  // namespace

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
    // Accounting lines (unified hierarchy only): a bare number is memory.peak, then cpu.stat.
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string first, second;
        ls >> first >> second;
        if (first.empty()) continue;
        try {
            if (second.empty()) {
                result.peak_memory_bytes = std::stoull(first);
            } else if (first == "usage_usec") {
                result.cpu_time = std::chrono::milliseconds(std::stoull(second) / 1000);
            }
        } catch (const std::exception&) {
            // Accounting is best effort; a malformed line leaves the field at 0.
        }
    }
}

}  // namespace nixjail::executor::sysd
