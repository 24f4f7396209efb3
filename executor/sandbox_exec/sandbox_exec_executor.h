// The macOS backend: each step runs under `sandbox-exec -p <profile>` with the job's generated
// SBPL profile (sbpl_profile.h). Paths are not remapped (sandboxExecTraits()): the
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
    // On cancel the step's process group gets SIGTERM, then SIGKILL after this long.
    std::chrono::milliseconds cancel_grace{5000};
};

// Host paths; steps reach only the job's proxy on the loopback (JailSpec::proxy_port, which the
// profile allows and nothing else). The runner does not yet give the closure's store paths as
// read-only binds, so steps see no Nix root (needs_root is false).
inline BackendTraits sandboxExecTraits() {
    return {.remaps_paths = false, .needs_root = false, .network = BackendTraits::Network::kLoopbackOnly};
}

// On macOS: the sandbox-exec executor. Elsewhere: throws base::Error naming the Linux backends.
std::unique_ptr<Executor> makeSandboxExecExecutor(const SandboxExecOptions& options = {});

}  // namespace nixjail::executor
