// Spawning with posix_spawn, waiting through a pidfd, and killing the process group.
#include "runner/base/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <utility>

#include "runner/base/error.h"
#include "runner/base/scope_exit.h"

namespace nixjail::base {

bool ExitStatus::exited() const { return WIFEXITED(raw); }
int ExitStatus::exitCode() const { return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1; }
int ExitStatus::termSignal() const { return WIFSIGNALED(raw) ? WTERMSIG(raw) : 0; }

namespace {
std::vector<char*> cStrings(const std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

void check(int rc, const char* what) {
    if (rc != 0) throw SysError(what, rc);
}

// A program name without '/' is looked up in the PATH the child gets, as its shell would, not
// in the runner's own PATH; without a PATH in `env`, in the runner's.
std::optional<std::string> resolveProgram(const std::string& name, const std::vector<std::string>& env) {
    if (name.find('/') != std::string::npos) return name;
    for (const auto& kv : env) {
        if (kv.rfind("PATH=", 0) != 0) continue;
        const std::string path = kv.substr(5);
        size_t start = 0;
        while (start <= path.size()) {
            size_t colon = path.find(':', start);
            std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
            if (!dir.empty()) {
                std::string candidate = dir + "/" + name;
                if (::access(candidate.c_str(), X_OK) == 0) return candidate;
            }
            if (colon == std::string::npos) break;
            start = colon + 1;
        }
        return std::nullopt;
    }
    return name;
}
}  // namespace

ChildProcess ChildProcess::spawn(const SpawnOptions& opts) {
    if (opts.argv.empty()) throw Error("cannot spawn a process with an empty argv");
    posix_spawn_file_actions_t actions;
    check(posix_spawn_file_actions_init(&actions), "posix_spawn_file_actions_init");
    ScopeExit destroyActions([&] { posix_spawn_file_actions_destroy(&actions); });
    posix_spawnattr_t attr;
    check(posix_spawnattr_init(&attr), "posix_spawnattr_init");
    ScopeExit destroyAttr([&] { posix_spawnattr_destroy(&attr); });

    if (opts.stdin_fd >= 0) {
        check(posix_spawn_file_actions_adddup2(&actions, opts.stdin_fd, 0), "dup2 stdin");
    } else {
        check(posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0), "open /dev/null");
    }
    if (opts.stdout_fd >= 0) check(posix_spawn_file_actions_adddup2(&actions, opts.stdout_fd, 1), "dup2 stdout");
    if (opts.stderr_fd >= 0) check(posix_spawn_file_actions_adddup2(&actions, opts.stderr_fd, 2), "dup2 stderr");
    if (!opts.cwd.empty()) {
        check(posix_spawn_file_actions_addchdir_np(&actions, opts.cwd.c_str()), "chdir");
    }
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (opts.new_session) flags |= POSIX_SPAWN_SETSID;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    check(posix_spawnattr_setflags(&attr, flags), "posix_spawnattr_setflags");

    auto argv = cStrings(opts.argv);
    auto envp = cStrings(opts.env);
    const auto program = resolveProgram(opts.argv[0], opts.env);
    if (!program) throw Error("cannot start '" + opts.argv[0] + "': not found in the PATH it was given");
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, program->c_str(), &actions, &attr, argv.data(), envp.data());
    if (rc != 0) {
        throw SysError("cannot start '" + opts.argv[0] + "'" +
                           (opts.cwd.empty() ? "" : " in '" + opts.cwd.string() + "'"),
                       rc);
    }
    ChildProcess child;
    child.pid_ = pid;
    child.own_group_ = opts.new_session;
    child.pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!child.pidfd_) throw SysError("pidfd_open for pid " + std::to_string(pid));
    ::fcntl(child.pidfd_.get(), F_SETFD, FD_CLOEXEC);
    return child;
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), own_group_(o.own_group_), pidfd_(std::move(o.pidfd_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
    if (this != &o) {
        this->~ChildProcess();
        pid_ = std::exchange(o.pid_, -1);
        own_group_ = o.own_group_;
        pidfd_ = std::move(o.pidfd_);
    }
    return *this;
}

ChildProcess::~ChildProcess() {
    if (pid_ <= 0) return;
    killTree(SIGKILL);
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
}

std::optional<ExitStatus> ChildProcess::tryWait() {
    if (pid_ <= 0) throw Error("tryWait on a process that was already reaped");
    ExitStatus st;
    pid_t r = ::wait4(pid_, &st.raw, WNOHANG, &st.usage);
    if (r < 0) throw SysError("waiting for pid " + std::to_string(pid_));
    if (r == 0) return std::nullopt;
    pid_ = -1;
    return st;
}

ExitStatus ChildProcess::wait() {
    if (pid_ <= 0) throw Error("wait on a process that was already reaped");
    ExitStatus st;
    pid_t r;
    while ((r = ::wait4(pid_, &st.raw, 0, &st.usage)) < 0 && errno == EINTR) {
    }
    if (r < 0) throw SysError("waiting for pid " + std::to_string(pid_));
    pid_ = -1;
    return st;
}

void ChildProcess::killTree(int sig) const {
    if (pid_ <= 0) return;
    // The group outlives its leader; signal it even when the leader is a zombie.
    if (own_group_) ::kill(-pid_, sig);
    ::kill(pid_, sig);
}

}  // namespace nixjail::base
