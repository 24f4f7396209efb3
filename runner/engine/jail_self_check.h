// The jail's self-check: before a job's first step, the runner runs nixjail-jail-check in the
// job's jail (executor/jail_check/) and compares the cgroup limits the backend saw applied with
// the ones it asked for. A jail that broke a promise (a capability left, no seccomp filter, a
// route out, a writable store, a missing limit) runs no step: a kernel or a configuration that
// silently weakens the jail is refused, not trusted.
#pragma once

#include <chrono>
#include <filesystem>
#include <stop_token>
#include <string>
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

// Copies the program into the temp directory, runs it as the jail's first process, removes it.
// Throws base::Error when the program is missing or cannot be copied; a jail that cannot run it
// gives a report whose checks failed, saying why.
JailCheckReport checkJail(executor::Jail& jail, const JailCheckRequest& request, std::stop_token cancel);

}  // namespace nixjail::runner::engine
