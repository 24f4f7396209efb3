// Backend selection.
#include "executor/executor_factory.h"

#include <spdlog/spdlog.h>

#include "executor/host/host_executor.h"
#include "executor/namespace/namespace_executor.h"
#include "executor/sandbox_exec/sandbox_exec_executor.h"
#include "executor/systemd/systemd_executor.h"
#include "runner/base/error.h"

namespace nixjail::executor {

std::string autoBackend() {
#ifdef __APPLE__
    return "sandbox-exec";
#else
    return systemdUnusableReason() ? "namespace" : "systemd";
#endif
}

std::unique_ptr<Executor> makeExecutor(const std::string& backend, const BackendOptions& options) {
    const std::string name = backend == "auto" ? autoBackend() : backend;
#ifndef __APPLE__
    if (backend == "auto" && name == "namespace" && systemdIsPid1()) {
        // A systemd host whose systemd cannot run the steps (no step account): say why the
        // namespace jail runs them instead.
        auto logger = options.logger ? options.logger : spdlog::default_logger();
        logger->warn("executor auto: the namespace jail, not systemd: {}",
                     systemdUnusableReason().value_or("systemd cannot run the steps"));
    }
#endif
    if (name == "namespace") {
        NamespaceOptions o;
        o.cancel_grace = options.cancel_grace;
        o.logger = options.logger;
        return std::make_unique<NamespaceExecutor>(o);
    }
    if (name == "systemd") {
        SystemdOptions o;
        o.cancel_grace = options.cancel_grace;
        o.logger = options.logger;
        o.instance = options.instance;
        return makeSystemdExecutor(o);
    }
    if (name == "sandbox-exec") {
        SandboxExecOptions o;
        o.cancel_grace = options.cancel_grace;
        return makeSandboxExecExecutor(o);
    }
    if (name == "host") return std::make_unique<HostExecutor>(HostOptions{options.cancel_grace});
    throw base::Error("unknown executor '" + backend +
                      "'; choose auto, namespace (the built-in jail), systemd, sandbox-exec (macOS) or host "
                      "(no isolation, for debugging)");
}

LeftoverSweep sweepLeftovers(const std::string& backend, const std::string& instance) {
    const std::string name = backend == "auto" ? autoBackend() : backend;
    LeftoverSweep sweep;
    try {
        if (name == "systemd") {
            SystemdOptions o;
            o.instance = instance;
            sweepSystemdUnits(o);
            sweep.detail = "systemd units of instance " + instance + " stopped";
        } else if (name == "namespace") {
            const auto swept = sweepLeftovers(NamespaceOptions{});
            sweep.removed = swept.cgroups + swept.staging_dirs;
            sweep.detail = "cgroups=" + std::to_string(swept.cgroups) +
                           " staging_dirs=" + std::to_string(swept.staging_dirs);
        } else {
            sweep.detail = "executor=" + name + ", no namespace jails to sweep";
        }
    } catch (const std::exception& e) {
        // A failed sweep does not stop the runner: the caller logs it and starts.
        sweep.failed = true;
        sweep.detail = std::string("sweep failed: ") + e.what();
    }
    return sweep;
}

}  // namespace nixjail::executor
