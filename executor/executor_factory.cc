// Backend selection.
#include "executor/executor_factory.h"

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
    return systemdIsPid1() ? "systemd" : "namespace";
#endif
}

std::unique_ptr<Executor> makeExecutor(const std::string& backend, const BackendOptions& options) {
    const std::string name = backend == "auto" ? autoBackend() : backend;
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
    if (name == "host") return std::make_unique<HostExecutor>();
    throw base::Error("unknown executor '" + backend +
                      "'; choose auto, namespace (the built-in jail), systemd, sandbox-exec (macOS) or host "
                      "(no isolation, for debugging)");
}

}  // namespace nixjail::executor
