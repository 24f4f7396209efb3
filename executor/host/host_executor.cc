// Runs steps as host processes in their own session, with timeout and cancellation.
#include "executor/host/host_executor.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <stdexcept>

#include "runner/base/child_process.h"
#include "runner/base/error.h"
#include "runner/base/unique_fd.h"

namespace nixjail::executor {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::chrono::milliseconds cpuTime(const struct rusage& ru) {
    auto us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec +
              ru.ru_stime.tv_usec;
    return milliseconds(us / 1000);
}

class HostJail : public Jail {
public:
    explicit HostJail(JailSpec spec) : spec_(std::move(spec)) {}

    StepResult run(const StepInvocation& step) override {
        StepResult result;
        auto start = Clock::now();
        base::Pipe out = base::Pipe::create();
        base::ChildProcess child;
        try {
            child = base::ChildProcess::spawn({.argv = step.argv,
                                               .env = step.env,
                                               .cwd = step.cwd,
                                               .stdout_fd = out.write.get(),
                                               .stderr_fd = out.write.get()});
        } catch (const base::Error& e) {
            result.setup_error = std::string("spawn: ") + e.what();
            return result;
        }
        out.write.reset();

        auto limit = spec_.limits.wall_time;
        if (step.timeout && *step.timeout < limit) limit = *step.timeout;
        auto deadline = start + limit;
        bool outputOpen = true;
        std::optional<base::ExitStatus> status;
        char buf[65536];
        while (!status || outputOpen) {
            if (!status && step.cancel.stop_requested() && !result.cancelled) {
                result.cancelled = true;
                child.killTree(SIGKILL);
            }
            if (!status && Clock::now() >= deadline && !result.timed_out) {
                result.timed_out = true;
                child.killTree(SIGKILL);
            }
            struct pollfd fds[2] = {{out.read.get(), POLLIN, 0}, {child.pidfd(), POLLIN, 0}};
            nfds_t n = 2;
            if (!outputOpen) fds[0].fd = -1;
            if (status) n = 1;
            auto left = duration_cast<milliseconds>(deadline - Clock::now()).count();
            int wait = static_cast<int>(std::clamp<long long>(left, 0, 100));
            if (::poll(fds, n, wait) < 0 && errno != EINTR) throw base::SysError("poll on step output");
            if (outputOpen && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
                ssize_t r = ::read(out.read.get(), buf, sizeof buf);
                if (r > 0) {
                    if (step.on_output) step.on_output(std::string_view(buf, static_cast<size_t>(r)));
                } else if (r == 0 || errno != EINTR) {
                    outputOpen = false;
                }
            }
            if (!status && n == 2 && (fds[1].revents & POLLIN)) {
                status = child.tryWait();
                // Helpers that kept the output pipe open die with the step's session.
                if (status) child.killTree(SIGKILL);
            }
            if (status && outputOpen) {
                // Drain what is buffered; stop when only a leaked writer keeps the pipe open.
                struct pollfd drain = {out.read.get(), POLLIN, 0};
                if (::poll(&drain, 1, 0) == 0) {
                    outputOpen = false;
                }
            }
        }
        result.wall_time = duration_cast<milliseconds>(Clock::now() - start);
        result.exit_code = status->exitCode();
        result.term_signal = status->termSignal();
        result.cpu_time = cpuTime(status->usage);
        // An upper bound: the step was spawned vfork-style (posix_spawn), and the kernel counts the
        // runner's own resident size at the exec into the child's ru_maxrss. The jails measure
        // their cgroup instead.
        result.peak_memory_bytes = static_cast<std::uint64_t>(status->usage.ru_maxrss) * 1024;
        return result;
    }

private:
    JailSpec spec_;
};

}  // namespace

std::unique_ptr<Jail> HostExecutor::prepare(const JailSpec& spec) {
    for (const auto& b : spec.binds) {
        if (b.host != b.jail) {
            throw base::Error("the host executor cannot remap '" + b.host.string() + "' to '" +
                              b.jail.string() + "'; use a jail executor");
        }
    }
    return std::make_unique<HostJail>(spec);
}

}  // namespace nixjail::executor
