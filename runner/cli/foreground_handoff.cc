// The user's process waiting for the run, and the child that may stay behind.
#include "runner/cli/foreground_handoff.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "runner/base/error.h"

namespace nixjail::runner::cli {

namespace {

[[noreturn]] void waitForRun(pid_t child, int from_child, const sigset_t& forwarded) {
    const int signals = ::signalfd(-1, &forwarded, SFD_CLOEXEC);
    for (;;) {
        pollfd fds[2] = {{from_child, POLLIN, 0}, {signals, POLLIN, 0}};
        if (::poll(fds, signals >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo info{};
            if (::read(signals, &info, sizeof info) == sizeof info) ::kill(child, info.ssi_signo == SIGHUP ? SIGTERM : static_cast<int>(info.ssi_signo));
        }
        if (fds[0].revents) {
            unsigned char code = 0;
            if (::read(from_child, &code, 1) == 1) ::_exit(code);
            break;  // the child exited (or closed its end) without a result
        }
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
}

}  // namespace

ForegroundHandoff::ForegroundHandoff() {
    base::Pipe pipe = base::Pipe::create();
    sigset_t forwarded, old;
    sigemptyset(&forwarded);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&forwarded, sig);
    ::sigprocmask(SIG_BLOCK, &forwarded, &old);
    const pid_t child = ::fork();
    if (child < 0) {
        ::sigprocmask(SIG_SETMASK, &old, nullptr);
        throw base::SysError("forking the run that may keep its jobs");
    }
    if (child > 0) {
        pipe.write.reset();
        waitForRun(child, pipe.read.get(), forwarded);
    }
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    ::setsid();
    to_parent_ = std::move(pipe.write);
}

void ForegroundHandoff::finish(int exit_code) {
    if (!to_parent_) return;
    const unsigned char code = static_cast<unsigned char>(exit_code);
    (void)!::write(to_parent_.get(), &code, 1);
    to_parent_.reset();
}

}  // namespace nixjail::runner::cli
