// Names and messages for jail setup phases.
#include "executor/namespace/setup_phase.h"

#include <cstring>

namespace nixjail::executor::ns {

const char* phaseName(SetupPhase phase) {
    switch (phase) {
        case SetupPhase::kNone:
            return "none";
        case SetupPhase::kSync:
            return "sync";
        case SetupPhase::kFds:
            return "fds";
        case SetupPhase::kMounts:
            return "mounts";
        case SetupPhase::kPivotRoot:
            return "pivot_root";
        case SetupPhase::kHostname:
            return "hostname";
        case SetupPhase::kLoopback:
            return "loopback";
        case SetupPhase::kFork:
            return "fork";
        case SetupPhase::kRlimits:
            return "rlimits";
        case SetupPhase::kUser:
            return "user";
        case SetupPhase::kCapabilities:
            return "capabilities";
        case SetupPhase::kNoNewPrivs:
            return "no_new_privs";
        case SetupPhase::kSeccomp:
            return "seccomp";
        case SetupPhase::kChdir:
            return "chdir";
        case SetupPhase::kExec:
            return "exec";
        case SetupPhase::kCgroup:
            return "cgroup";
    }
    return "unknown";
}

std::string describeSetupFailure(SetupPhase phase, int err, const std::string& what) {
    std::string out = phaseName(phase);
    if (!what.empty()) out += ": " + what;
    if (err != 0) out += std::string(": ") + std::strerror(err);
    return out;
}

}  // namespace nixjail::executor::ns
