// Choosing a backend by name, for the exec command and the daemon's config.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "executor/executor.h"

namespace spdlog {
class logger;
}

namespace nixjail::executor {

struct BackendOptions {
    std::chrono::milliseconds cancel_grace{5000};  // SIGTERM to SIGKILL on cancel
    std::shared_ptr<spdlog::logger> logger;        // null: spdlog's default logger
    std::string instance;  // the runner's tag in systemd unit names (see SystemdOptions)
};

// "auto": sandbox-exec on macOS, systemd where systemd is PID 1 and can run the steps (see
// systemdUnusableReason), the namespace jail elsewhere (with a warning on a systemd host).
// "namespace", "systemd", "sandbox-exec", "host" (no isolation; debugging only). Throws
// base::Error for an unknown name, and the backend's own error where it cannot work here.
std::unique_ptr<Executor> makeExecutor(const std::string& backend, const BackendOptions& options = {});

// What "auto" picks on this machine.
std::string autoBackend();

struct LeftoverSweep {
    // For the daemon's startup_sweep event: "cgroups=N staging_dirs=M" (namespace), "systemd
    // units of instance I stopped", "executor=host, no namespace jails to sweep", or
    // "sweep failed: <why>".
    std::string detail;
    int removed = 0;      // cgroups and staging directories removed (systemd does not count)
    bool failed = false;  // detail says why; nothing of a live job was touched
};

// For a runner's start-up, before any job runs: removes what a crashed runner of the same
// instance left behind for this backend ("auto" is resolved first): systemd stops its step units
// (sweepSystemdUnits), the namespace jail removes job cgroups and staging directories (the
// sweepLeftovers(NamespaceOptions) of namespace_executor.h), host and sandbox-exec have nothing
// to sweep. Never throws for a failed sweep and logs nothing: the caller logs `detail`.
LeftoverSweep sweepLeftovers(const std::string& backend, const std::string& instance);

}  // namespace nixjail::executor
