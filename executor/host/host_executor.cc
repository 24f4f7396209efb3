// Runs steps as host processes in their own session, with timeout and cancellation.
#include "executor/host/host_executor.h"

#include <signal.h>

#include "executor/step_supervisor.h"
#include "runner/base/child_process.h"
#include "runner/base/error.h"
#include "runner/base/unique_fd.h"

namespace nixjail::executor {

namespace {

using std::chrono::milliseconds;

std::chrono::milliseconds cpuTime(const struct rusage& ru) {
    auto us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec +
              ru.ru_stime.tv_usec;
    return milliseconds(us / 1000);
}

class HostJail : public Jail {
public:
    HostJail(JailSpec spec, HostOptions options) : spec_(std::move(spec)), options_(options) {}

    StepResult run(const StepInvocation& step) override {
        if (step.stdio) {
            StepResult result;
            result.setup_error = "prepare step: the host executor cannot attach a terminal or the caller's stdio to a step (use the namespace executor)";
            return result;
        }
        if (step.prelude) {
            StepResult result;
            result.setup_error = "prepare step: the host executor runs no prelude before a step (the namespace executor does)";
            return result;
        }
        if (step.files_mount) {
            StepResult result;
            result.setup_error = "prepare step: the host executor cannot attach a detached mount to a step (the namespace executor does)";
            return result;
        }
        const auto start = std::chrono::steady_clock::now();
        base::Pipe out = base::Pipe::create();
        base::ChildProcess child;
        try {
            child = base::ChildProcess::spawn({.argv = step.argv,
                                               .env = step.env,
                                               .cwd = step.cwd,
                                               .stdout_fd = out.write.get(),
                                               .stderr_fd = out.write.get()});
        } catch (const base::Error& e) {
            StepResult result;
            result.setup_error = std::string("spawn: ") + e.what();
            return result;
        }
        out.write.reset();

        std::optional<base::ExitStatus> status;
        StepChild verbs{
            .output_fd = out.read.get(),
            .exit_fd = child.pidfd(),
            .terminate = [&] { child.killTree(SIGTERM); },
            .kill = [&] { child.killTree(SIGKILL); },
            .reap = [&](bool block) -> std::optional<int> {
                // Called once the step's main process has exited: its session dies with it
                // (helpers that kept the output pipe open too), while the group still exists.
                child.killTree(SIGKILL);
                if (block)
                    status = child.wait();
                else
                    status = child.tryWait();
                if (!status) return std::nullopt;
                return status->raw;
            }};
        StepResult result = superviseStep(
            step, verbs,
            {.start = start,
             .limit = stepTimeLimit(spec_.limits, step),
             .cancel_grace = options_.cancel_grace});
        result.cpu_time = cpuTime(status->usage);
        // An upper bound: the step was spawned vfork-style (posix_spawn), and the kernel counts the
        // runner's own resident size at the exec into the child's ru_maxrss. The jails measure
        // their cgroup instead.
        result.peak_memory_bytes = static_cast<std::uint64_t>(status->usage.ru_maxrss) * 1024;
        return result;
    }

private:
    JailSpec spec_;
    HostOptions options_;
};

}  // namespace

std::unique_ptr<Jail> HostExecutor::prepare(const JailSpec& spec) {
    for (const auto& b : spec.binds) {
        if (b.host != b.jail) {
            throw base::Error("the host executor cannot remap '" + b.host.string() + "' to '" +
                              b.jail.string() + "'; use a jail executor");
        }
    }
    return std::make_unique<HostJail>(spec, options_);
}

}  // namespace nixjail::executor
