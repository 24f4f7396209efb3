// One poll() loop over the step's output, its exit (pidfd) and its cancellation (an eventfd the
// stop_token's callback writes), with the deadline and the end of a cancel's grace as timeouts.
#include "executor/step_supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <stop_token>

#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include "runner/base/error.h"
#include "runner/base/unique_fd.h"

namespace nixjail::executor {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Without an exit fd (macOS has no pidfd), reap() is polled this often.
constexpr milliseconds kReapInterval{50};
// Longer limits are as good as none, and keep start + limit from overflowing the clock.
constexpr milliseconds kLongestLimit{std::chrono::hours(24 * 365)};

// Readable once stop is requested on the token (at once if it already is).
class CancelFd {
  public:
    explicit CancelFd(const std::stop_token& token) {
#ifdef __linux__
        read_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        if (!read_) throw base::SysError("creating an eventfd for a step's cancel");
        const int w = read_.get();
#else
        int fds[2];
        if (::pipe(fds) != 0) throw base::SysError("creating a pipe for a step's cancel");
        read_.reset(fds[0]);
        write_.reset(fds[1]);
        ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
        ::fcntl(fds[1], F_SETFD, FD_CLOEXEC);
        const int w = write_.get();
#endif
        callback_.emplace(token, Notify{w});
    }
    int fd() const { return read_.get(); }

  private:
    struct Notify {
        int fd;
        void operator()() const {
            // Eight bytes, as an eventfd takes them; a pipe is written this once only.
            std::uint64_t one = 1;
            [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
        }
    };
    base::UniqueFd read_;
    base::UniqueFd write_;
    // Declared last: unregistered before the fds close.
    std::optional<std::stop_callback<Notify>> callback_;
};

int pollTimeout(Clock::time_point next, bool polling_reap) {
    const auto left = std::chrono::ceil<milliseconds>(next - Clock::now()).count();
    const long long most = polling_reap ? kReapInterval.count() : 24LL * 3600 * 1000;
    return static_cast<int>(std::clamp<long long>(left, 0, most));
}

}  // namespace

milliseconds stepTimeLimit(const Limits& limits, const StepInvocation& step) {
    auto limit = limits.wall_time;
    if (step.timeout && *step.timeout < limit) limit = *step.timeout;
    return limit;
}

StepResult superviseStep(const StepInvocation& step, const StepChild& child,
                         const StepClock& clock) {
    StepResult result;
    CancelFd cancel(step.cancel);
    const auto deadline = clock.start + std::clamp(clock.limit, milliseconds(0), kLongestLimit);
    auto killAt = Clock::time_point::max();  // the end of a cancel's grace period; max(): none
    std::optional<int> status;
    bool outputOpen = true;
    char buf[65536];
    while (!status || outputOpen) {
        struct pollfd fds[3] = {
            {outputOpen ? child.output_fd : -1, POLLIN, 0},
            {status ? -1 : child.exit_fd, POLLIN, 0},
            // Not once it fired: it stays readable.
            {status || result.cancelled || result.timed_out ? -1 : cancel.fd(), POLLIN, 0}};
        // Once the child is gone, only what is already in the pipe is read.
        const int wait = status ? 0 : pollTimeout(std::min(deadline, killAt), child.exit_fd < 0);
        if (::poll(fds, 3, wait) < 0 && errno != EINTR) {
            const int err = errno;
            child.kill();
            try {
                if (!status) child.reap(true);
            } catch (const base::Error&) {
                // The poll failure below is the error to report; the backend's own cleanup
                // (its process handle's destructor) reaps what is left.
            }
            throw base::SysError("poll on the step's output", err);
        }
        const auto now = Clock::now();
        if (!status && !result.timed_out && !result.cancelled && now >= deadline) {
            result.timed_out = true;
            child.kill();
        }
        if (!status && !result.timed_out && !result.cancelled && (fds[2].revents & POLLIN)) {
            result.cancelled = true;
            child.terminate();
            killAt = now + std::clamp(clock.cancel_grace, milliseconds(0), kLongestLimit);
        }
        if (!status && now >= killAt) {
            child.kill();
            killAt = Clock::time_point::max();
        }
        if (outputOpen && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            const ssize_t r = ::read(child.output_fd, buf, sizeof buf);
            if (r > 0) {
                if (step.on_output) step.on_output(std::string_view(buf, static_cast<size_t>(r)));
            } else if (r == 0 || errno != EINTR) {
                outputOpen = false;
            }
        } else if (status) {
            // The child is gone and nothing is buffered: whoever still holds the pipe open (a
            // process that left the tree, a service manager's copy) does not keep the step.
            outputOpen = false;
        }
        if (!status && (child.exit_fd < 0 || (fds[1].revents & POLLIN))) status = child.reap(false);
    }
    result.wall_time = std::chrono::duration_cast<milliseconds>(Clock::now() - clock.start);
    if (WIFEXITED(*status)) {
        result.exit_code = WEXITSTATUS(*status);
    } else if (WIFSIGNALED(*status)) {
        result.term_signal = WTERMSIG(*status);
    }
    return result;
}

}  // namespace nixjail::executor
