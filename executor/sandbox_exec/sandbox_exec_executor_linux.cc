// Non-macOS half of the sandbox-exec backend: Seatbelt exists only on macOS.
#include "executor/sandbox_exec/sandbox_exec_executor.h"
#include "runner/base/error.h"

namespace nixjail::executor {

std::unique_ptr<Executor> makeSandboxExecExecutor(const SandboxExecOptions&) {
    throw base::Error(
        "cannot use the sandbox-exec executor: sandbox-exec (Seatbelt) exists only on macOS; on "
        "Linux use the namespace executor (--executor namespace), or systemd where it is PID 1");
}

}  // namespace nixjail::executor
