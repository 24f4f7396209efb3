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

}  // namespace nixjail::executor
