// The systemd backend: each step runs as a transient service unit (`systemd-run --wait --pipe
// --collect`) with the full hardening set of spec/hardening.md (see unit_properties.cc). The
// default where systemd is PID 1; elsewhere (containers, CI) use the namespace executor.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
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
    // User=/Group= (the same host ids as the namespace jail's step) that traits().step_owner reports.
    // systemd starts a unit with a numeric User=/Group= only when the user database has them
    // (otherwise every step fails with status 217/USER): see systemdUnusableReason().
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
    // Whether the user database has step_uid and step_gid; null: ask it (getpwuid/getgrgid, the
    // NSS lookup systemd makes). For tests on fake hosts.
    std::function<bool(uid_t, gid_t)> step_account_known;
    // Receives lifecycle and weakening messages; null: spdlog's default logger.
    std::shared_ptr<spdlog::logger> logger;
};

// Remapped paths, a root of the job's own, the job's network namespace
// (NetworkNamespacePath=); steps run as step_uid/step_gid, or a fresh uid with dynamic_user.
BackendTraits systemdTraits(const SystemdOptions& options);

// True when systemd manages this machine: <run>/systemd/system exists and PID 1 is systemd.
bool systemdIsPid1(const std::filesystem::path& proc_root = "/proc",
                   const std::filesystem::path& run_root = "/run");

// Why the systemd backend cannot run steps here, or nullopt when it can: systemd is not PID 1, or
// (without dynamic_user) the step's uid or gid has no entry in the user database, which systemd
// needs to start a unit with that User=/Group=. The text says what to do.
std::optional<std::string> systemdUnusableReason(const SystemdOptions& options = {});

// The account the systemd backend's steps run as, for an admin to create:
// "groupadd --system --gid G nixjail-step && useradd --system --uid U --gid G ... nixjail-step".
std::string stepAccountCommand(const SystemdOptions& options = {});

// Throws base::Error with systemdUnusableReason() when the backend cannot run steps here.
std::unique_ptr<Executor> makeSystemdExecutor(const SystemdOptions& options = {});

// For a runner's start-up: stops the step units a crashed predecessor of the same instance left
// running (`systemctl stop` of "nixjail-<instance>--*.service", which ends their whole cgroups)
// and forgets failed ones (`systemctl reset-failed`). Throws base::Error when options.instance
// is empty (other runners' units could match) or systemctl fails, with its message.
void sweepSystemdUnits(const SystemdOptions& options);

}  // namespace nixjail::executor
