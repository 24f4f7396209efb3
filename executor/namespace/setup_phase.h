// The phases of jail setup, and the fixed-size report the jail's processes send to the runner.
// Between clone and exec the child cannot allocate or throw, so it writes one of these to a
// close-on-exec pipe and exits; the parent turns it into JailSetupError / StepResult.setup_error.
#pragma once

#include <cstdint>
#include <string>

namespace nixjail::executor::ns {

enum class SetupPhase : std::int32_t {
    kNone = 0,
    kSync,          // waiting for the runner to write the id maps and join the cgroup
    kFds,           // arranging stdin/stdout/stderr and the report pipe
    kMounts,        // building the mount tree in the staging tmpfs
    kPivotRoot,     // switching to the new root
    kHostname,      // sethostname in the UTS namespace
    kLoopback,      // bringing up lo in the new network namespace
    kFork,          // forking the step's main process from the jail init
    kRlimits,       // RLIMIT_NOFILE and friends
    kUser,          // switching to the jail user
    kCapabilities,  // dropping every capability
    kNoNewPrivs,    // PR_SET_NO_NEW_PRIVS
    kSeccomp,       // installing the seccomp filter
    kChdir,         // entering the step's working directory
    kExec,          // execve of the step's program
    kCgroup,        // moving itself into the step's cgroups (v1)
};

const char* phaseName(SetupPhase phase);

// What a jail process writes to the report pipe; small enough to be written atomically.
struct ChildReport {
    enum class Kind : std::int32_t { kSetupError = 1, kMainExited = 2 };
    Kind kind = Kind::kSetupError;
    SetupPhase phase = SetupPhase::kNone;
    std::int32_t err = 0;     // errno for kSetupError
    std::int32_t detail = 0;  // index of the failing mount op, or the raw wait status
};

// "mounts: bind '/usr' -> '/usr': Permission denied" style text; `what` may be empty.
std::string describeSetupFailure(SetupPhase phase, int err, const std::string& what);

}  // namespace nixjail::executor::ns
