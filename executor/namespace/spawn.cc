// The child side of a jail, as the ordered list of its steps. From clone to exec nothing here
// allocates, throws or logs: a failure writes (phase, errno) to the report pipe and exits.
#include "executor/namespace/spawn.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <sstream>

#include "executor/namespace/caps.h"
#include "executor/namespace/jail_init.h"
#include "executor/namespace/netns.h"
#include "executor/namespace/setup_phase.h"
#include "runner/base/error.h"
#include "runner/base/sanitizers.h"

namespace nixjail::executor::ns {

namespace {

constexpr int kReportFd = 3;
constexpr int kSyncFd = 4;
// StepInvocation::stdio, when given: 5, 6, 7 until the step makes them its 0, 1, 2.
constexpr int kStdioFd = 5;

[[noreturn]] void fail(SetupPhase phase, int err, int detail = -1) {
    writeChildReport(
        kReportFd,
        {.kind = ChildReport::Kind::kSetupError, .phase = phase, .err = err, .detail = detail});
    ::_exit(127);
}

void check(SetupPhase phase, int err, int detail = -1) {
    if (err != 0) fail(phase, err, detail);
}

int errnoOf(int rc) { return rc == 0 ? 0 : errno; }

// Moves the fds the jail needs to 0..4 (0..7 with the caller's stdio, then the step's files
// mount) and closes everything else the runner had open: the init never execs, so close-on-exec
// would not protect other jobs' pipes from being held open here.
int arrangeFds(const ChildFds& fds) {
    const bool attached = fds.in >= 0;
    const int count = attached ? 7 : 4;
    int high[8];
    const int src[7] = {fds.devnull, fds.output, fds.report, fds.sync, fds.in, fds.out, fds.err};
    for (int i = 0; i < count; ++i) {
        high[i] = ::fcntl(src[i], F_DUPFD, 16);
        if (high[i] < 0) return errno;
    }
    if (fds.files_mount >= 0) {
        high[7] = ::fcntl(fds.files_mount, F_DUPFD, 16);
        if (high[7] < 0) return errno;
    }
    if (::dup2(high[0], 0) < 0 || ::dup2(high[1], 1) < 0 || ::dup2(high[1], 2) < 0 ||
        ::dup2(high[2], kReportFd) < 0 || ::dup2(high[3], kSyncFd) < 0) {
        return errno;
    }
    for (int i = 4; i < count; ++i) {
        if (::dup2(high[i], kStdioFd + i - 4) < 0) return errno;
    }
    if (::fcntl(kReportFd, F_SETFD, FD_CLOEXEC) != 0) return errno;
    // The init never execs; a prelude does, and must not hold the runner's channel.
    if (::fcntl(kSyncFd, F_SETFD, FD_CLOEXEC) != 0) return errno;
    int firstFree = attached ? kStdioFd + 3 : kSyncFd + 1;
    if (fds.files_mount >= 0) {
        if (::dup3(high[7], firstFree, O_CLOEXEC) < 0) return errno;
        ++firstFree;
    }
    if (::syscall(SYS_close_range, firstFree, ~0U, 0) != 0) return errno;
    return 0;
}

// Where arrangeFds put ChildFds::files_mount.
int filesMountFd(const ChildFds& fds) { return fds.in >= 0 ? kStdioFd + 3 : kSyncFd + 1; }

// Attaches the step's detached mount (StepPlan::files_target) in the jail's mount namespace and
// closes its fd, before anything of the job runs. The target's last component is not followed if
// it is a link (the runner made it a directory; a step of the job may have changed that since).
int attachFilesMount(const StepPlan& step, const ChildFds& fds) {
    if (fds.files_mount < 0) return 0;
    const int fd = filesMountFd(fds);
    const int rc = static_cast<int>(::syscall(SYS_move_mount, fd, "", AT_FDCWD, step.files_target.c_str(),
                                              MOVE_MOUNT_F_EMPTY_PATH));
    const int err = rc == 0 ? 0 : errno;
    ::close(fd);
    return err;
}

// The caller's stdio (and terminal) become the step's.
int attachStdio(const ChildFds& fds) {
    if (fds.in < 0) return 0;
    for (int i = 0; i < 3; ++i) {
        if (::dup2(kStdioFd + i, i) < 0) return errno;
    }
    if (::syscall(SYS_close_range, kStdioFd, kStdioFd + 2, 0) != 0) return errno;
    if (fds.terminal && ::ioctl(0, TIOCSCTTY, 0) != 0) return errno;
    return 0;
}

// The runner releases the init twice: once the id maps are written (the init may then set up
// its mounts), and once the init is in the step's cgroup (it may then start the step). An init
// that joins its cgroups itself says so between the two, while it mounts.
int waitForRunner(bool last) {
    char byte = 0;
    ssize_t n;
    while ((n = ::read(kSyncFd, &byte, 1)) < 0 && errno == EINTR) {
    }
    if (last) ::close(kSyncFd);
    return n == 1 ? 0 : ECANCELED;
}

// In the root mapping the clone still carries host uid 0, which the jail cannot represent;
// become the namespace's root (host id base) before creating any file.
int becomeNamespaceRoot(const IdMapPlan& ids) {
    return ids.setup_as_root ? setJailIds(true, 0, 0) : 0;
}

int resetSignals() {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        ::sigaction(sig, &dfl, nullptr);  // EINVAL for the glibc-reserved ones is fine
    }
    sigset_t none;
    sigemptyset(&none);
    return errnoOf(::sigprocmask(SIG_SETMASK, &none, nullptr));
}

int setLimits(const JailPlan& jail) {
    struct rlimit nofile {
        jail.nofile, jail.nofile
    };
    struct rlimit core {
        0, 0
    };
    if (::setrlimit(RLIMIT_NOFILE, &nofile) != 0) return errno;
    return errnoOf(::setrlimit(RLIMIT_CORE, &core));
}

// execve, retried while the file is busy (ETXTBSY) for up to about 200 ms: a program the runner
// has just written (the self-check's copy) may still be open for writing in another job's jail
// init, cloned while it was being written, until that init closes what it inherited.
// Returns execve's errno.
int execRetryingBusy(const char* path, const StepPlan& step) {
    for (int attempt = 0;; ++attempt) {
        ::execve(path, step.argvp.data(), step.envp.data());
        if (errno != ETXTBSY || attempt == 200) return errno;
        struct timespec pause {
            0, 1000 * 1000
        };
        ::nanosleep(&pause, nullptr);
    }
}

// execvp semantics against the step's own PATH, resolved by the parent into candidates.
int execStep(const StepPlan& step) {
    int err = ENOENT;
    for (const auto& path : step.exec_candidates) {
        const int e = execRetryingBusy(path.c_str(), step);
        if (e == EACCES) {
            err = EACCES;
        } else if (e != ENOENT && e != ENOTDIR) {
            return e;
        }
    }
    return err;
}

// A prelude's stdio is the jail's own (/dev/null, the output pipe): the caller's stays the step's.
int detachStdio(const ChildFds& fds) {
    if (fds.in < 0) return 0;
    return errnoOf(static_cast<int>(::syscall(SYS_close_range, kStdioFd, kStdioFd + 2, 0)));
}

// A process of the step (its main process, or its prelude): shed every privilege, then exec.
[[noreturn]] void runStep(const JailPlan& jail, const StepPlan& step, const ChildFds& fds, bool attach) {
    check(SetupPhase::kFork, resetSignals());
    ::setsid();
    check(SetupPhase::kFds, attach ? attachStdio(fds) : detachStdio(fds));
    ::umask(022);
    check(SetupPhase::kRlimits, setLimits(jail));
    check(SetupPhase::kCapabilities, dropBoundingAndAmbient(jail.cap_last_cap));
    check(SetupPhase::kUser, switchToJailUser(jail.ids));
    check(SetupPhase::kCapabilities, clearCapabilitySets());
    check(SetupPhase::kNoNewPrivs, errnoOf(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)));
    check(SetupPhase::kChdir, errnoOf(::chdir(step.cwd.c_str())));
    check(SetupPhase::kSeccomp, installSeccompFilter(*jail.seccomp));
    fail(SetupPhase::kExec, execStep(step));
}

#if !NIXJAIL_ASAN
// What the step's process starts from (clone's argument).
struct StepStart {
    const JailPlan* jail;
    const StepPlan* step;
    const ChildFds* fds;
    bool attach;
};

int startStep(void* arg) {
    const auto* start = static_cast<const StepStart*>(arg);
    runStep(*start->jail, *start->step, *start->fds, start->attach);
}
#endif

// Starts a process of the step (runStep) as the init's child and returns its pid.
//
// It shares the init's memory until it execs (CLONE_VM | CLONE_VFORK, as posix_spawn does), on a
// stack of its own: copying the init's page tables, a copy of the whole runner's, was about
// 0.4 ms of every step. The init is suspended until the exec or the failure's _exit; until then
// the step's side only makes system calls (raw ones where glibc would touch other threads,
// userns.cc) and writes its own stack and errno. glibc's clone(), unlike fork(), runs no fork
// handlers, whose locks another runner thread may have held when the init was cloned.
pid_t startProcess(const JailPlan& jail, const StepPlan& step, const ChildFds& fds, bool attach) {
#if NIXJAIL_ASAN
    // AddressSanitizer cannot follow a process onto a stack of its own (it warns, into the step's
    // output, at each noreturn call): sanitizer builds copy the init as a fork would.
    const long pid = ::syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (pid < 0) fail(SetupPhase::kFork, errno);
    if (pid == 0) runStep(jail, step, fds, attach);
    return static_cast<pid_t>(pid);
#else
    constexpr size_t kStepStack = 256 * 1024;
    void* stack = ::mmap(nullptr, kStepStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                         -1, 0);
    if (stack == MAP_FAILED) fail(SetupPhase::kFork, errno);
    StepStart start{&jail, &step, &fds, attach};
    const int pid = ::clone(startStep, static_cast<char*>(stack) + kStepStack, CLONE_VM | CLONE_VFORK | SIGCHLD,
                            &start);
    if (pid < 0) fail(SetupPhase::kFork, errno);
    ::munmap(stack, kStepStack);  // the process has exec'd or exited by now
    return pid;
#endif
}

// The step's prelude, run to its end in the finished jail: its wait status goes to the runner,
// whose one byte then starts the step. No byte: the runner refused the step and kills the jail.
void runPrelude(const JailPlan& jail, const StepPlan& prelude, const ChildFds& fds) {
    const pid_t pid = startProcess(jail, prelude, fds, false);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) fail(SetupPhase::kFork, errno);
    }
    ssize_t n;
    while ((n = ::send(kSyncFd, &status, sizeof status, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    check(SetupPhase::kSync, n == static_cast<ssize_t>(sizeof status) ? 0 : (n < 0 ? errno : EIO));
    check(SetupPhase::kSync, waitForRunner(true));
}

// Moves this (single-threaded) process into each cgroup whose `tasks` file the runner opened:
// writing "0" moves the calling thread, which the kernel allows on the opener's (root's)
// credentials and does without the global threadgroup lock. Returns 0 or the first errno.
int joinCgroups(const ChildFds& fds) {
    int err = 0;
    for (int i = 0; i < fds.cgroup_task_count; ++i) {
        ssize_t n;
        while ((n = ::write(fds.cgroup_tasks[i], "0", 1)) < 0 && errno == EINTR) {
        }
        if (n != 1 && err == 0) err = n < 0 ? errno : EIO;
        ::close(fds.cgroup_tasks[i]);
    }
    return err;
}

// Tells the runner the init is in its cgroups (it reads /proc/PID/cgroup then).
int ackCgroups(const ChildFds& fds) {
    if (fds.cgroup_task_count == 0) return 0;
    const char joined = 'c';
    ssize_t n;
    while ((n = ::send(kSyncFd, &joined, 1, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    return n == 1 ? 0 : errno;
}

// Runs as pid 1 of the new namespaces, straight after clone.
[[noreturn]] void runJailChild(const JailPlan& jail, const StepPlan& step, const ChildFds& fds) {
    // The runner's signal handlers mean nothing here. Block everything from the start: the init
    // then receives signals through sigwaitinfo (blocked signals reach even a pid-namespace init,
    // which would otherwise drop those with default disposition).
    sigset_t all;
    sigfillset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
    }
    // First, before the init allocates anything the cgroup should count.
    const int joinErr = joinCgroups(fds);
    if (arrangeFds(fds) != 0) ::_exit(126);  // no report pipe yet
    check(SetupPhase::kCgroup, joinErr);
    // /proc/1/cmdline is readable by everyone in the jail: the runner's command line (with any
    // --secret K=V) and environment must be gone before the step exists.
    scrubProcessStrings(jail.runner_strings, "nixjail-init");
    check(SetupPhase::kFds, errnoOf(::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)));
    check(SetupPhase::kSync, ackCgroups(fds));
    check(SetupPhase::kSync, waitForRunner(false));
    // The init is a copy of the runner's memory for as long as the step runs; keep /proc/1/mem
    // and friends closed to everyone in the jail (exec makes the step dumpable again).
    check(SetupPhase::kFds, errnoOf(::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)));
    check(SetupPhase::kUser, becomeNamespaceRoot(jail.ids));
    int failed = -1;
    check(SetupPhase::kMounts, makeMountsPrivate());
    check(SetupPhase::kMounts, applyMountOps(jail.mounts.before_pivot, &failed), failed);
    check(SetupPhase::kPivotRoot, pivotIntoRoot(jail.mounts));
    int err = applyMountOps(jail.mounts.after_pivot, &failed);
    check(SetupPhase::kMounts, err, static_cast<int>(jail.mounts.before_pivot.size()) + failed);
    // Reported as the mount op after the plan's last (NamespaceJail::describeReport).
    check(SetupPhase::kMounts, attachFilesMount(step, fds),
          static_cast<int>(jail.mounts.before_pivot.size() + jail.mounts.after_pivot.size()));
    check(SetupPhase::kHostname,
          errnoOf(::sethostname(jail.hostname.data(), jail.hostname.size())));
    if (jail.new_netns) check(SetupPhase::kLoopback, bringUpLoopback());
    check(SetupPhase::kSync, waitForRunner(!step.prelude));
    if (step.prelude) runPrelude(jail, *step.prelude, fds);

    const pid_t pid = startProcess(jail, step, fds, true);
    // Only the step writes the output pipe (or holds the caller's stdio); init keeps /dev/null.
    ::dup2(0, 1);
    ::dup2(0, 2);
    if (fds.in >= 0) ::syscall(SYS_close_range, kStdioFd, kStdioFd + 2, 0);
    runJailInit(static_cast<pid_t>(pid), kReportFd);
}

}  // namespace

namespace {

void planProgram(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                 const std::filesystem::path& cwd, StepPlan& out) {
    if (argv.empty()) throw base::Error("the step has an empty command line");
    out.argv = argv;
    out.env = env;
    out.cwd = cwd.empty() ? "/" : cwd.string();
    if (out.cwd[0] != '/') {
        throw base::Error("step working directory '" + out.cwd + "' must be an absolute jail path");
    }
    for (auto& a : out.argv) out.argvp.push_back(a.data());
    out.argvp.push_back(nullptr);
    for (auto& e : out.env) out.envp.push_back(e.data());
    out.envp.push_back(nullptr);
    const auto& prog = out.argv[0];
    if (prog.find('/') != std::string::npos) {
        out.exec_candidates.push_back(prog);
        return;
    }
    std::string path = "/usr/local/bin:/usr/bin:/bin";
    for (const auto& e : out.env) {
        if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
    }
    std::istringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        std::string candidate = dir.empty() ? std::string(".") : dir;
        candidate.push_back('/');
        candidate.append(prog);
        out.exec_candidates.push_back(std::move(candidate));
    }
}

}  // namespace

void planStep(const StepInvocation& step, StepPlan& out) {
    planProgram(step.argv, step.env, step.cwd, out);
    if (step.files_mount) {
        out.files_target = step.files_mount->jail.lexically_normal().string();
        if (step.files_mount->mount_fd < 0 || out.files_target.empty() || out.files_target[0] != '/') {
            throw base::Error("the step's files mount needs an fd and an absolute jail path, not '" +
                              out.files_target + "'");
        }
    }
    if (step.prelude) {
        out.prelude = std::make_unique<StepPlan>();
        planProgram(step.prelude->argv, step.prelude->env, step.prelude->cwd, *out.prelude);
    }
}

long cloneWithPidfd(unsigned long flags, int* pidfd, int cgroup_fd, bool* in_cgroup) {
    *in_cgroup = false;
    if (cgroup_fd >= 0) {
        struct clone_args args {};
        args.flags = flags | CLONE_PIDFD | CLONE_INTO_CGROUP;
        args.pidfd = reinterpret_cast<std::uint64_t>(pidfd);
        args.exit_signal = SIGCHLD;
        args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
        const long pid = ::syscall(SYS_clone3, &args, sizeof args);
        if (pid >= 0) {
            *in_cgroup = true;
            return pid;
        }
        // No clone3 (before 5.3) or no CLONE_INTO_CGROUP (before 5.7): clone where we are.
        if (errno != ENOSYS && errno != EINVAL && errno != E2BIG) return -1;
    }
    return ::syscall(SYS_clone, flags | CLONE_PIDFD | SIGCHLD, nullptr, pidfd, nullptr, nullptr);
}

SpawnedJail cloneJail(const JailPlan& jail, const StepPlan& step, const ChildFds& fds, int cgroup_fd) {
    unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
                          CLONE_NEWCGROUP;
    if (jail.new_netns) flags |= CLONE_NEWNET;
    int pidfd = -1;
    bool in_cgroup = false;
    const long pid = cloneWithPidfd(flags, &pidfd, cgroup_fd, &in_cgroup);
    if (pid < 0) {
        throw base::SysError(
            "cloning the jail's init into new user, mount, pid, ipc, uts and "
            "cgroup namespaces" + std::string(cgroup_fd >= 0 ? " and its step cgroup" : "") +
            "; does the kernel allow user namespaces?");
    }
    if (pid == 0) runJailChild(jail, step, fds);
    SpawnedJail out;
    out.pid = static_cast<pid_t>(pid);
    out.pidfd.reset(pidfd);
    out.in_cgroup = in_cgroup;
    // The pidfd is not close-on-exec by birth; make it so before anyone else can fork.
    ::fcntl(pidfd, F_SETFD, FD_CLOEXEC);
    return out;
}

}  // namespace nixjail::executor::ns
