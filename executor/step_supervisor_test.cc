#include "executor/step_supervisor.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <thread>

#include "runner/base/child_process.h"
#include "runner/base/unique_fd.h"

namespace nixjail::executor {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A plain child in its own session, with verbs that count how often the loop used them.
struct Supervised {
    base::Pipe out = base::Pipe::create();
    base::ChildProcess child;
    pid_t group = -1;
    int terminated = 0;
    int killed = 0;
    Clock::time_point start = Clock::now();

    explicit Supervised(const std::string& script) {
        child = base::ChildProcess::spawn({.argv = {"/bin/sh", "-c", script},
                                           .env = {"PATH=/usr/bin:/bin"},
                                           .stdout_fd = out.write.get(),
                                           .stderr_fd = out.write.get()});
        group = child.pid();
        out.write.reset();
    }
    ~Supervised() {
        if (group > 0) ::kill(-group, SIGKILL);  // what a test left running on purpose
    }

    StepChild verbs(bool with_pidfd = true) {
        return {.output_fd = out.read.get(),
                .exit_fd = with_pidfd ? child.pidfd() : -1,
                .terminate =
                    [this] {
                        ++terminated;
                        child.killTree(SIGTERM);
                    },
                .kill =
                    [this] {
                        ++killed;
                        child.killTree(SIGKILL);
                    },
                .reap = [this](bool block) -> std::optional<int> {
                    if (block) return child.wait().raw;
                    auto st = child.tryWait();
                    if (!st) return std::nullopt;
                    return st->raw;
                }};
    }

    StepResult run(StepInvocation& step, std::chrono::milliseconds limit,
                   std::chrono::milliseconds grace = 5s, bool with_pidfd = true) {
        return superviseStep(step, verbs(with_pidfd),
                             {.start = start, .limit = limit, .cancel_grace = grace});
    }
};

std::chrono::nanoseconds threadCpu() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

StepInvocation collecting(std::string& out) {
    StepInvocation step;
    step.on_output = [&out](std::string_view s) { out.append(s); };
    return step;
}

TEST(StepSupervisor, ExitCodeAndOutputOfAChildThatEnds) {
    Supervised s("echo out; echo err >&2; exit 3");
    std::string out;
    auto step = collecting(out);
    auto r = s.run(step, 10s);
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.term_signal, 0);
    EXPECT_EQ(out, "out\nerr\n");
    EXPECT_FALSE(r.timed_out || r.cancelled);
    EXPECT_EQ(s.killed + s.terminated, 0);
}

TEST(StepSupervisor, TheDeadlineKillsAtOnceAndMarksTimedOut) {
    Supervised s("trap '' TERM; echo started; exec sleep 30");
    std::string out;
    auto step = collecting(out);
    auto r = s.run(step, 300ms);
    EXPECT_TRUE(r.timed_out);
    EXPECT_FALSE(r.cancelled);
    EXPECT_EQ(r.exit_code, -1);
    EXPECT_EQ(r.term_signal, SIGKILL);
    EXPECT_EQ(s.terminated, 0);
    EXPECT_EQ(s.killed, 1);
    EXPECT_GE(r.wall_time, 300ms);
    EXPECT_LT(r.wall_time, 5s);
    EXPECT_EQ(out, "started\n");
}

TEST(StepSupervisor, CancelTerminatesThenKillsWhenTheGraceEnds) {
    Supervised s("trap 'echo got-term' TERM; echo started; while :; do sleep 0.05; done");
    std::string out;
    std::stop_source stop;
    Clock::time_point cancelledAt;
    StepInvocation step;
    step.cancel = stop.get_token();
    step.on_output = [&](std::string_view chunk) {
        out.append(chunk);
        if (out == "started\n") {
            cancelledAt = Clock::now();
            stop.request_stop();  // from the loop's own thread: the callback runs at once
        }
    };
    const auto cpuBefore = threadCpu();
    auto r = s.run(step, 60s, 400ms);
    const auto ended = Clock::now();
    // The loop sleeps in poll() through the grace period instead of spinning.
    EXPECT_LT(threadCpu() - cpuBefore, 100ms);
    EXPECT_TRUE(r.cancelled);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.term_signal, SIGKILL);
    EXPECT_EQ(s.terminated, 1);
    EXPECT_EQ(s.killed, 1);
    // The shell may also say "Terminated" for its foreground sleep, which the SIGTERM ended.
    EXPECT_NE(out.find("got-term\n"), std::string::npos) << out;
    EXPECT_GE(ended - cancelledAt, 400ms);
    EXPECT_LT(ended - cancelledAt, 5s);
}

TEST(StepSupervisor, ACancelledStepThatStopsWithinTheGraceIsNotKilled) {
    Supervised s("trap 'exit 3' TERM; echo started; while :; do sleep 0.05; done");
    std::string out;
    std::stop_source stop;
    StepInvocation step;
    step.cancel = stop.get_token();
    step.on_output = [&](std::string_view chunk) {
        out.append(chunk);
        stop.request_stop();
    };
    auto r = s.run(step, 60s, 30s);
    EXPECT_TRUE(r.cancelled);
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(s.terminated, 1);
    EXPECT_EQ(s.killed, 0);
    EXPECT_LT(r.wall_time, 10s);
}

TEST(StepSupervisor, ACancelBeforeTheLoopStartsStillCancels) {
    Supervised s("sleep 30");
    std::stop_source stop;
    stop.request_stop();
    StepInvocation step;
    step.cancel = stop.get_token();
    auto r = s.run(step, 60s, 0ms);
    EXPECT_TRUE(r.cancelled);
    EXPECT_NE(r.term_signal, 0);
    EXPECT_LT(r.wall_time, 5s);
}

TEST(StepSupervisor, OutputLeftInThePipeIsReadAfterTheChildExited) {
    // 60000 bytes fit the pipe: the child exits before the loop reads any of it.
    Supervised s("head -c 60000 /dev/zero | tr '\\0' x; exit 5");
    {
        struct pollfd p = {s.child.pidfd(), POLLIN, 0};
        ASSERT_EQ(::poll(&p, 1, 10000), 1) << "the child did not exit";
    }
    std::string out;
    auto step = collecting(out);
    auto r = s.run(step, 10s);
    EXPECT_EQ(r.exit_code, 5);
    EXPECT_EQ(out, std::string(60000, 'x'));
}

TEST(StepSupervisor, AHelperHoldingThePipeDoesNotKeepTheStepOnceTheChildIsGone) {
    // The verbs here do not kill the tree on exit, so the helper outlives the child.
    Supervised s("sleep 30 & echo done");
    std::string out;
    auto step = collecting(out);
    auto r = s.run(step, 60s);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(out, "done\n");
    EXPECT_LT(r.wall_time, 10s);
}

TEST(StepSupervisor, AChildThatClosesItsOutputEarlyIsWaitedFor) {
    Supervised s("echo bye; exec >&- 2>&-; sleep 0.3; exit 4");
    std::string out;
    auto step = collecting(out);
    auto r = s.run(step, 10s);
    EXPECT_EQ(r.exit_code, 4);
    EXPECT_EQ(out, "bye\n");
    EXPECT_GE(r.wall_time, 300ms);
}

TEST(StepSupervisor, AChildThatClosesItsOutputEarlyStillTimesOut) {
    Supervised s("exec >&- 2>&-; exec sleep 30");
    StepInvocation step;
    auto r = s.run(step, 300ms);
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.term_signal, SIGKILL);
    EXPECT_LT(r.wall_time, 5s);
}

TEST(StepSupervisor, WithoutAnExitFdTheChildIsReapedByPolling) {
    // As on macOS, where there is no pidfd.
    Supervised s("echo hi; sleep 0.1; exit 6");
    std::string out;
    auto step = collecting(out);
    auto r = s.run(step, 10s, 5s, /*with_pidfd=*/false);
    EXPECT_EQ(r.exit_code, 6);
    EXPECT_EQ(out, "hi\n");
}

TEST(StepSupervisor, TheTimeLimitIsTheShorterOfJobAndStep) {
    Limits limits;
    limits.wall_time = 10s;
    StepInvocation step;
    EXPECT_EQ(stepTimeLimit(limits, step), 10s);
    step.timeout = 3s;
    EXPECT_EQ(stepTimeLimit(limits, step), 3s);
    step.timeout = 30s;
    EXPECT_EQ(stepTimeLimit(limits, step), 10s);
}

}  // namespace
}  // namespace nixjail::executor
