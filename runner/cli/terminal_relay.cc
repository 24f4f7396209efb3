// The pty between the user's terminal and a command in a jail.
#include "runner/cli/terminal_relay.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <thread>

#include "runner/base/error.h"
#include "runner/base/scope_exit.h"
#include "runner/base/unique_fd.h"

namespace nixjail::runner::cli {

namespace {

bool writeFully(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

// Copies what is readable on `from` to `to`; false at EOF or error (EIO: no slave is left).
bool pump(int from, int to) {
    char buf[4096];
    const ssize_t n = ::read(from, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) return false;
    return writeFully(to, buf, static_cast<std::size_t>(n));
}

}  // namespace

void runAttached(const std::function<void(const executor::StepStdio& stdio)>& attached) {
    if (!::isatty(STDIN_FILENO)) {
        attached({.in = STDIN_FILENO, .out = STDOUT_FILENO, .err = STDERR_FILENO, .terminal = false});
        return;
    }
    base::UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0) {
        throw base::SysError("opening a pseudo-terminal for the shell");
    }
    base::UniqueFd slave(::open(::ptsname(master.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!slave) throw base::SysError("opening the pseudo-terminal's slave end");
    winsize size{};
    if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &size) == 0) ::ioctl(slave.get(), TIOCSWINSZ, &size);
    termios saved{};
    const bool haveMode = ::tcgetattr(STDIN_FILENO, &saved) == 0;
    if (haveMode) {
        termios raw = saved;
        ::cfmakeraw(&raw);
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
    }
    base::ScopeExit restore([&] {
        if (haveMode) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    });

    base::Pipe done = base::Pipe::create();
    std::exception_ptr failed;
    std::thread command([&] {
        try {
            attached({.in = slave.get(), .out = slave.get(), .err = slave.get(), .terminal = true});
        } catch (...) {
            failed = std::current_exception();
        }
        const char byte = 1;
        (void)!::write(done.write.get(), &byte, 1);
    });
    bool userOpen = true, ptyOpen = true;
    for (;;) {
        pollfd fds[3] = {{done.read.get(), POLLIN, 0},
                         {userOpen ? STDIN_FILENO : -1, POLLIN, 0},
                         {ptyOpen ? master.get() : -1, POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[2].revents) ptyOpen = pump(master.get(), STDOUT_FILENO);
        if (fds[1].revents) userOpen = pump(STDIN_FILENO, master.get());
        if (fds[0].revents) break;
    }
    command.join();
    // What the command wrote last, still in the pty.
    ::fcntl(master.get(), F_SETFL, O_NONBLOCK);
    char buf[4096];
    ssize_t n;
    while (ptyOpen && (n = ::read(master.get(), buf, sizeof buf)) > 0) {
        if (!writeFully(STDOUT_FILENO, buf, static_cast<std::size_t>(n))) break;
    }
    if (failed) std::rethrow_exception(failed);
}

}  // namespace nixjail::runner::cli
