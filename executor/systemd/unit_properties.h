// The properties of a step's transient systemd unit, decided in pure code (golden-tested): the
// hardening set of spec/hardening.md, the job's binds and limits, and the result recorder.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "executor/executor.h"

namespace nixjail::executor::sysd {

struct UnitPropertyInputs {
    std::filesystem::path root;  // RootDirectory=
    std::vector<BindMount> binds;
    HardeningProfile profile = HardeningProfile::kDefault;
    Limits limits;
    std::chrono::milliseconds runtime_max{0};  // RuntimeMaxSec=; the step's effective time limit
    std::chrono::milliseconds stop_timeout{5000};  // TimeoutStopSec=: SIGTERM to SIGKILL on stop
    // NetworkNamespacePath=; empty: PrivateNetwork=yes (a new namespace with only loopback).
    std::string netns_path;
    // DynamicUser=yes, or a fixed User=/Group= (numeric ids) when false.
    bool dynamic_user = false;
    uid_t uid = 0;
    gid_t gid = 0;
    // Where the unit's ExecStopPost=+ recorder writes "SERVICE_RESULT EXIT_CODE EXIT_STATUS" and
    // the cgroup's memory.peak/cpu.stat (unified hierarchy) for unit_result.cc.
    std::filesystem::path result_file;
};

struct UnitProperties {
    std::vector<std::string> properties;  // "Name=value", one `systemd-run -p` each
    std::vector<std::string> weakenings;  // named, for the job log
};

// Throws base::Error when a path cannot be expressed in systemd's syntax (colons, whitespace,
// quotes, backslashes or control characters), naming the path and the namespace backend.
UnitProperties planUnitProperties(const UnitPropertyInputs& in);

}  // namespace nixjail::executor::sysd
