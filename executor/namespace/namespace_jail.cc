// The parent side of one step: clone the jail, hand it its id maps and cgroup, stream its output,
// enforce the deadline and cancellation, and collect the result.
#include "executor/namespace/namespace_jail.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "executor/namespace/netns.h"
#include "executor/namespace/setup_phase.h"
#include "executor/step_supervisor.h"
#include "runner/base/error.h"

namespace nixjail::executor::ns {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

void killJail(const SpawnedJail& child, const StepCgroup& cgroup) {
    // Killing pid 1 makes the kernel kill the whole pid namespace; cgroup.kill (v2) is the same
    // from the other side.
    ::syscall(SYS_pidfd_send_signal, child.pidfd.get(), SIGKILL, nullptr, 0);
    try {
        cgroup.killAll();
    } catch (const base::Error&) {
        // The pid-namespace kill above is sufficient on its own; the cgroup kill is a backstop.
    }
}

// Whether `fd` has something to read (or its end) right now.
bool readable(int fd) {
    struct pollfd p {
        fd, POLLIN, 0
    };
    return ::poll(&p, 1, 0) > 0;
}

// The reports on the report pipe until its end (every writer gone); with `wait` false, only those
// already written.
std::vector<ChildReport> readReports(int fd, bool wait = true) {
    std::vector<ChildReport> out;
    ChildReport r;
    for (;;) {
        if (!wait && !readable(fd)) break;
        ssize_t n = ::read(fd, &r, sizeof r);
        if (n < 0 && errno == EINTR) continue;
        if (n != static_cast<ssize_t>(sizeof r)) break;
        out.push_back(r);
    }
    return out;
}

// Waits for the init's word that it moved itself into its cgroups; false when it exited first.
bool cgroupJoined(int sync_fd) {
    char byte = 0;
    ssize_t n;
    while ((n = ::recv(sync_fd, &byte, 1, 0)) < 0 && errno == EINTR) {
    }
    if (n < 0 && errno != ECONNRESET) throw base::SysError("waiting for the jail's init to join its cgroup");
    return n == 1;
}

// The two ends of the socket pair between the runner and a jail's init (spawn.h, ChildFds::sync):
// the runner releases the init through its end and hears there that the init joined its cgroups.
struct SyncChannel {
    base::UniqueFd runner;
    base::UniqueFd init;
};

SyncChannel syncChannel() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        throw base::SysError("creating the channel that releases a jail's init");
    SyncChannel out;
    out.runner.reset(sv[0]);
    out.init.reset(sv[1]);
    return out;
}

// Appends what `fd` holds right now to `out`, up to `cap` bytes in all; the rest is read and
// dropped.
void readReady(int fd, std::string& out, size_t cap) {
    char buf[4096];
    while (readable(fd)) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        out.append(buf, std::min(static_cast<size_t>(n), cap - std::min(cap, out.size())));
    }
}

// One byte to the init; false when it is gone.
bool sendByte(int fd) {
    const char go = 1;
    ssize_t sent;
    while ((sent = ::send(fd, &go, 1, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    return sent == 1;
}

milliseconds cpuOf(const struct rusage& ru) {
    auto us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec +
              ru.ru_stime.tv_usec;
    return milliseconds(us / 1000);
}

}  // namespace

NamespaceJail::NamespaceJail(JailSpec spec, std::shared_ptr<const base::TempDir> staging, JailPlan plan,
                             JobCgroup cgroup,
                             std::shared_ptr<spdlog::logger> log, milliseconds cancel_grace)
    : spec_(std::move(spec)),
      staging_(std::move(staging)),
      plan_(std::move(plan)),
      cgroup_(std::move(cgroup)),
      log_(std::move(log)),
      cancel_grace_(cancel_grace) {}

std::string NamespaceJail::describeReport(const ChildReport& report) const {
    std::string what;
    const auto& pre = plan_.mounts.before_pivot;
    const auto& post = plan_.mounts.after_pivot;
    if (report.phase == SetupPhase::kMounts && report.detail >= 0) {
        auto i = static_cast<size_t>(report.detail);
        if (i < pre.size())
            what = describeMountOp(pre[i]);
        else if (i - pre.size() < post.size())
            what = describeMountOp(post[i - pre.size()]);
        else
            what = "the step's own tmpfs of command files (attached with move_mount)";
    } else if (report.phase == SetupPhase::kChdir) {
        what = "working directory";
    } else if (report.phase == SetupPhase::kPivotRoot) {
        what = "'" + plan_.mounts.new_root + "'";
    }
    auto text = describeSetupFailure(report.phase, report.err, what);
    if (report.phase == SetupPhase::kMounts && report.err == EACCES) {
        text +=
            "; the jail's setup runs as an unprivileged host id, so the root and every bind "
            "source need o+x on each parent directory";
    }
    return text;
}

StepResult NamespaceJail::run(const StepInvocation& step) {
    StepResult result;
    StepPlan plan;
    StepCgroup cgroup;
    try {
        planStep(step, plan);
        cgroup = cgroup_.createStep(spec_.limits, ++steps_);
    } catch (const base::Error& e) {
        result.setup_error = std::string("prepare step: ") + e.what();
        return result;
    }
    result = runPlanned(step, plan, cgroup);
    try {
        cgroup.remove();
    } catch (const base::Error& e) {
        log_->warn("{}, ignoring job={}", e.what(), spec_.job_id);
    }
    return result;
}

StepResult NamespaceJail::runPlanned(const StepInvocation& step, const StepPlan& plan,
                                     StepCgroup& cgroup) {
    StepResult result;
    const auto start = Clock::now();
    auto report = base::Pipe::create();
    auto output = base::Pipe::create();
    // A socket pair, not a pipe, so that releasing an init that has already failed (and exited)
    // is EPIPE for the send, not a SIGPIPE for the runner.
    auto sync = syncChannel();
    base::UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!devnull) throw base::SysError("opening /dev/null for a step");

    SpawnedJail child;
    AppliedLimits applied;  // read before the step may run, from the cgroup it was put in
    // How the init gets into the step's cgroup: v2, cloned into it; v1, it moves itself (the
    // runner's own moves wait for an RCU grace period each); v2 before Linux 5.7, the runner
    // moves it.
    bool joinsItself = false;
    try {
        ChildFds fds{.report = report.write.get(),
                     .sync = sync.init.get(),
                     .output = output.write.get(),
                     .devnull = devnull.get(),
                     .in = step.stdio ? step.stdio->in : -1,
                     .out = step.stdio ? step.stdio->out : -1,
                     .err = step.stdio ? step.stdio->err : -1,
                     .terminal = step.stdio && step.stdio->terminal,
                     .files_mount = step.files_mount ? step.files_mount->mount_fd : -1};
        std::vector<base::UniqueFd> tasks;
        if (cgroup.directoryFd() < 0) tasks = cgroup.openTasksFiles();
        if (tasks.size() > static_cast<size_t>(kMaxCgroupJoins))
            throw base::Error("a step cgroup in " + std::to_string(tasks.size()) + " hierarchies; at most " +
                              std::to_string(kMaxCgroupJoins) + " are joined");
        for (const auto& fd : tasks) fds.cgroup_tasks[fds.cgroup_task_count++] = fd.get();
        joinsItself = !tasks.empty();
        std::optional<ThreadNetnsSwitch> netns;
        if (!plan_.new_netns) netns.emplace(spec_.netns_fd);
        child = cloneJail(plan_, plan, fds, cgroup.directoryFd());
        if (netns) netns->restore();
    } catch (const base::Error& e) {
        if (child.pid > 0) {
            killJail(child, cgroup);
            ::waitpid(child.pid, nullptr, 0);
        }
        result.setup_error = std::string("clone: ") + e.what();
        return result;
    }
    report.write.reset();
    output.write.reset();
    sync.init.reset();
    try {
        writeIdMaps(child.pid, plan_.ids);
        const char go[2] = {1, 1};
        // False when the init is gone: it failed on its own and its report says why.
        auto release = [&](size_t n) {
            ssize_t sent;
            while ((sent = ::send(sync.runner.get(), go, n, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
            }
            if (sent < 0 && (errno == EPIPE || errno == ECONNRESET)) return false;
            if (sent != static_cast<ssize_t>(n)) throw base::SysError("releasing the jail's init");
            return true;
        };
        // The applied limits are read while the init still waits for its last byte: once
        // released it may run its step and exit before /proc/PID/cgroup is read.
        if (joinsItself) {
            // The init mounts while the runner reads where it is; it starts no step before the
            // second byte. An init that exits without saying it joined failed on its own, and
            // its report says why.
            if (release(1) && cgroupJoined(sync.runner.get())) applied = limitsOfProcess(child.pid);
            release(1);
        } else {
            // Cloned into its cgroup (v2), or moved there now (v2 before Linux 5.7).
            if (!child.in_cgroup) cgroup.addProcess(child.pid);
            applied = limitsOfProcess(child.pid);
            release(2);
        }
    } catch (const base::Error& e) {
        killJail(child, cgroup);
        ::waitpid(child.pid, nullptr, 0);
        result.setup_error = std::string("sync: ") + e.what();
        return result;
    }
    if (step.prelude &&
        !awaitPrelude(step, child, cgroup, {sync.runner.get(), output.read.get(), report.read.get()}, applied,
                      result)) {
        result.wall_time = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
        return result;
    }
    sync.runner.reset();

    int rawStatus = 0;
    struct rusage usage {};
    StepChild verbs{
        .output_fd = output.read.get(),
        .exit_fd = child.pidfd.get(),
        // Cancel is graceful: SIGTERM reaches the main process through the init, and the whole
        // tree is killed when the main process exits or the grace period ends.
        .terminate =
            [&] { ::syscall(SYS_pidfd_send_signal, child.pidfd.get(), SIGTERM, nullptr, 0); },
        .kill = [&] { killJail(child, cgroup); },
        // The init's exit has already taken every other process of the pid namespace with it.
        .reap = [&](bool block) -> std::optional<int> {
            pid_t r;
            while ((r = ::wait4(child.pid, &rawStatus, block ? 0 : WNOHANG, &usage)) < 0 &&
                   errno == EINTR) {
            }
            if (r < 0)
                throw base::SysError("waiting for the jail's init (pid " +
                                     std::to_string(child.pid) + ")");
            if (r == 0) return std::nullopt;
            return rawStatus;
        }};
    result = superviseStep(step, verbs,
                           {.start = start,
                            .limit = stepTimeLimit(spec_.limits, step),
                            .cancel_grace = cancel_grace_});
    // The step's own status comes from the init's report; the init's only says how it ended.
    result.exit_code = -1;
    result.term_signal = 0;

    auto reports = readReports(report.read.get());
    std::optional<int> mainStatus;
    for (const auto& r : reports) {
        if (r.kind == ChildReport::Kind::kSetupError && result.setup_error.empty()) {
            result.setup_error = describeReport(r);
        } else if (r.kind == ChildReport::Kind::kMainExited) {
            mainStatus = r.detail;
        }
    }
    if (!result.setup_error.empty()) {
        result.exit_code = -1;
    } else if (mainStatus) {
        result.exit_code = WIFEXITED(*mainStatus) ? WEXITSTATUS(*mainStatus) : -1;
        result.term_signal = WIFSIGNALED(*mainStatus) ? WTERMSIG(*mainStatus) : 0;
    } else if (WIFSIGNALED(rawStatus)) {
        // The init itself was killed: by our deadline/cancel, or the kernel's OOM killer.
        result.term_signal = WTERMSIG(rawStatus);
    } else {
        result.setup_error = "init: the jail's init exited with status " +
                             std::to_string(WEXITSTATUS(rawStatus)) + " before reporting";
    }
    auto used = cgroup.usage();
    result.cpu_time = used.cpu_known ? used.cpu : cpuOf(usage);
    // Without a cgroup memory peak (cgroup v2 before Linux 5.19), the largest resident set among
    // the jail's init and the processes it reaped is the closest measure.
    result.peak_memory_bytes = used.peak_memory_bytes
                                   ? used.peak_memory_bytes
                                   : static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
    result.oom_killed = used.oom_killed;
    result.applied_limits = applied;
    log_->debug("step exited code={} signal={} timed_out={} cancelled={} oom={} job={} ms={}",
                result.exit_code, result.term_signal, result.timed_out, result.cancelled,
                result.oom_killed, spec_.job_id, result.wall_time.count());
    return result;
}

bool NamespaceJail::awaitPrelude(const StepInvocation& step, const SpawnedJail& child,
                                 const StepCgroup& cgroup, InitChannels channels,
                                 const AppliedLimits& applied, StepResult& result) {
    constexpr size_t kOutputCap = 64 * 1024;
    const StepPrelude& prelude = *step.prelude;
    PreludeResult seen;
    seen.applied_limits = applied;
    const auto deadline = Clock::now() + prelude.timeout;
    int status = 0;
    size_t got = 0;
    // The init sends the prelude's wait status once it has reaped it, so all its output is in
    // the pipe by then; an init that exits first (its setup failed) closes the channel.
    bool ended = false;
    for (;;) {
        if (step.cancel.stop_requested()) {
            seen.cancelled = true;
            break;
        }
        const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            seen.timed_out = true;
            break;
        }
        // In slices, to see a cancel soon after it is asked for.
        struct pollfd fds[2] = {{channels.output, POLLIN, 0}, {channels.sync, POLLIN, 0}};
        const int ready = ::poll(fds, 2, static_cast<int>(std::min<long>(left.count(), 50)));
        if (ready < 0 && errno != EINTR) {
            seen.setup_error = std::string("sync: waiting for the prelude: ") + std::strerror(errno);
            break;
        }
        if (ready <= 0) continue;
        if (fds[0].revents != 0) readReady(channels.output, seen.output, kOutputCap);
        if (fds[1].revents == 0) continue;
        const ssize_t n = ::recv(channels.sync, reinterpret_cast<char*>(&status) + got, sizeof status - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
        if (got == sizeof status) {
            ended = true;
            break;
        }
    }
    readReady(channels.output, seen.output, kOutputCap);
    // Why a prelude could not start is reported before it exits; why the init is gone (its set-up
    // failed), before the init exits, so all of it is there once the init is reaped.
    const bool initGone = !ended && !seen.cancelled && !seen.timed_out && seen.setup_error.empty();
    if (initGone) ::waitpid(child.pid, nullptr, 0);
    if (ended || initGone) {
        for (const auto& r : readReports(channels.report, /*wait=*/initGone)) {
            if (r.kind == ChildReport::Kind::kSetupError && seen.setup_error.empty())
                seen.setup_error = describeReport(r);
        }
    }
    if (ended && seen.setup_error.empty()) {
        seen.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        seen.term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
    if (initGone && seen.setup_error.empty()) seen.setup_error = "init: the jail's init exited before its prelude ended";
    std::string refusal;
    try {
        if (prelude.admit) refusal = prelude.admit(seen);
    } catch (const std::exception& e) {
        refusal = std::string("judging it failed: ") + e.what();
    }
    if (ended && refusal.empty() && !seen.cancelled) {
        // An init gone by now failed on its own: the step's supervision finds its report.
        sendByte(channels.sync);
        return true;
    }
    killJail(child, cgroup);
    ::waitpid(child.pid, nullptr, 0);
    result.applied_limits = applied;
    if (seen.cancelled) {
        result.cancelled = true;
    } else if (!refusal.empty()) {
        result.setup_error = "prelude: " + refusal;
    } else if (seen.timed_out) {
        result.setup_error = "prelude: it did not finish within " +
                             std::to_string(std::chrono::duration_cast<std::chrono::seconds>(prelude.timeout).count()) + " s";
    } else {
        result.setup_error = "prelude: " + seen.setup_error;
    }
    log_->debug("step refused by its prelude: {} job={}", result.cancelled ? "cancelled" : result.setup_error,
                spec_.job_id);
    return false;
}

}  // namespace nixjail::executor::ns
