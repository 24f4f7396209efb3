// The macOS backend: each step runs under `sandbox-exec -p <profile>` with the job's generated
// SBPL profile (sbpl_profile.h). Paths are not remapped (isolatesFilesystem() is false): the
// read-only binds of the JailSpec are the closure's store paths, the writable ones the workspace,
// home and temp, each with host == jail. Compiled only on macOS; elsewhere the factory refuses.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "executor/executor.h"

namespace nixjail::executor {

struct SandboxExecOptions {
    std::string sandbox_exec = "/usr/bin/sandbox-exec";
    // The runner's proxy on localhost; nullopt: steps get no network.
    std::optional<std::uint16_t> proxy_port;
    // On cancel the step's process group gets SIGTERM, then SIGKILL after this long.
    std::chrono::milliseconds cancel_grace{5000};
};

// On macOS: the sandbox-exec executor. Elsewhere: throws base::Error naming the Linux backends.
std::unique_ptr<Executor> makeSandboxExecExecutor(const SandboxExecOptions& options = {});

}  // namespace nixjail::executor
