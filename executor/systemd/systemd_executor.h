// The systemd backend: each step runs as a transient service unit (`systemd-run --wait --pipe
// --collect`) with the full hardening set of spec/hardening.md (see unit_properties.cc). The
// default where systemd is PID 1; elsewhere (containers, CI) use the namespace executor.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "executor/executor.h"

namespace spdlog {
class logger;
}

namespace nixjail::executor {

struct SystemdOptions {
    std::string systemd_run = "systemd-run";
    std::string systemctl = "systemctl";
    // DynamicUser=yes gives every step a fresh uid that the runner cannot know in advance, so
    // writable binds must then be writable by anyone; the default is a fixed unprivileged
    // User=/Group= (the same host ids as the namespace jail's step) that stepOwner() reports.
    bool dynamic_user = false;
    uid_t step_uid = 0x70000000 + 1000;
    gid_t step_gid = 0x70000000 + 1000;
    // Names this runner's units ("nixjail-<instance>--<job>-<step>-<nonce>.service"), so that a
    // restarted runner stops its own leftovers and never another runner's; empty: no tag.
    std::string instance;
    // On cancel the unit is stopped (SIGTERM to the whole cgroup); SIGKILL after this long.
    std::chrono::milliseconds cancel_grace{5000};
    // Where per-job result files are written (root-only); empty: /run/nixjail or $TMPDIR.
    std::filesystem::path state_parent;
    // Probe roots, for tests.
    std::filesystem::path proc_root = "/proc";
    std::filesystem::path run_root = "/run";
    // Receives lifecycle and weakening messages; null: spdlog's default logger.
    std::shared_ptr<spdlog::logger> logger;
};

// True when systemd manages this machine: <run>/systemd/system exists and PID 1 is systemd.
bool systemdIsPid1(const std::filesystem::path& proc_root = "/proc",
                   const std::filesystem::path& run_root = "/run");

// Throws base::Error when systemd is not PID 1 here, naming the namespace executor instead.
std::unique_ptr<Executor> makeSystemdExecutor(const SystemdOptions& options = {});

// For a runner's start-up: stops the step units a crashed predecessor of the same instance left
// running (`systemctl stop` of "nixjail-<instance>--*.service", which ends their whole cgroups)
// and forgets failed ones (`systemctl reset-failed`). Throws base::Error when options.instance
// is empty (other runners' units could match) or systemctl fails, with its message.
void sweepSystemdUnits(const SystemdOptions& options);

}  // namespace nixjail::executor
