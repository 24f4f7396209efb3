#include "executor/host/host_executor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "executor/test_processes.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::executor {
namespace {

StepResult runShell(Jail& jail, const std::string& script, std::string* output = nullptr,
                    std::optional<std::chrono::milliseconds> timeout = {}, std::stop_token tok = {}) {
    StepInvocation step{.argv = {"sh", "-c", script},
                        .env = {"PATH=/usr/bin:/bin"},
                        .cwd = "/",
                        .timeout = timeout,
                        .cancel = tok};
    step.on_output = [output](std::string_view s) {
        if (output) output->append(s);
    };
    return jail.run(step);
}

TEST(HostExecutor, MergesStdoutAndStderr) {
    HostExecutor ex;
    auto jail = ex.prepare({.job_id = "t"});
    std::string out;
    auto r = runShell(*jail, "echo out; echo err >&2; exit 3", &out);
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(out, "out\nerr\n");
}

// A step's own tmpfs (StepInvocation::files_mount) needs a mount namespace of the step's own;
// the host executor has none, and says so instead of running the step without it.
TEST(HostExecutor, RefusesAFilesMountSayingWhichExecutorTakesIt) {
    HostExecutor ex;
    auto jail = ex.prepare({.job_id = "t"});
    std::string out;
    StepInvocation step{.argv = {"sh", "-c", "echo ran"}, .env = {"PATH=/usr/bin:/bin"}, .cwd = "/"};
    step.on_output = [&](std::string_view s) { out.append(s); };
    step.files_mount = StepFilesMount{.mount_fd = 0, .jail = "/files"};
    auto r = jail->run(step);
    EXPECT_EQ(r.setup_error,
              "prepare step: the host executor cannot attach a detached mount to a step (the namespace "
              "executor does)");
    EXPECT_EQ(out, "");
}

TEST(HostExecutor, TimeoutKillsTheStep) {
    HostExecutor ex;
    auto jail = ex.prepare({.job_id = "t"});
    auto r = runShell(*jail, "sleep 30", nullptr, std::chrono::milliseconds(200));
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.term_signal, SIGKILL);
    EXPECT_LT(r.wall_time, std::chrono::seconds(5));
}

TEST(HostExecutor, CancelKillsTheStep) {
    HostExecutor ex;
    auto jail = ex.prepare({.job_id = "t"});
    std::stop_source src;
    std::thread t([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        src.request_stop();
    });
    auto r = runShell(*jail, "sleep 30", nullptr, {}, src.get_token());
    t.join();
    EXPECT_TRUE(r.cancelled);
    EXPECT_FALSE(r.succeeded());
}

TEST(HostExecutor, BackgroundHelperHoldingOutputDoesNotHangTheStep) {
    HostExecutor ex;
    auto jail = ex.prepare({.job_id = "t"});
    auto r = runShell(*jail, "sleep 30 & echo started");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_LT(r.wall_time, std::chrono::seconds(5));
}

TEST(HostExecutor, CancelGrantsTheGracePeriodThenKillsTheTree) {
    const auto grace = std::chrono::milliseconds(700);
    HostExecutor ex(HostOptions{.cancel_grace = grace});
    auto jail = ex.prepare({.job_id = "t"});
    base::TempDir dir("nixjail-host-cancel-");
    const std::string token = "7" + std::to_string(::getpid()) + "1";
    std::stop_source stop;
    std::thread canceller;
    std::chrono::steady_clock::time_point cancelledAt;
    std::vector<pid_t> running;  // the helper, seen from here when the cancel came
    std::string out;
    StepInvocation step{.argv = {"sh", "-c", testing::trapsSigtermScript("term-marker", token)},
                        .env = {"PATH=/usr/bin:/bin"},
                        .cwd = dir.path(),
                        .cancel = stop.get_token()};
    step.on_output = [&](std::string_view s) {
        out.append(s);
        if (out.find("started") != std::string::npos && !canceller.joinable()) {
            canceller = std::thread([&] {
                running = testing::processesWithArgv({"sleep", token});
                cancelledAt = std::chrono::steady_clock::now();
                stop.request_stop();
            });
        }
    };
    auto r = jail->run(step);
    const auto ended = std::chrono::steady_clock::now();
    ASSERT_TRUE(canceller.joinable()) << "the step never started: " << out;
    canceller.join();
    EXPECT_TRUE(r.cancelled);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.term_signal, SIGKILL);  // it kept running through the grace period
    EXPECT_EQ(base::readFile(dir.path() / "term-marker"), "term\n");
    EXPECT_GE(ended - cancelledAt, grace - std::chrono::milliseconds(50));
    EXPECT_LT(ended - cancelledAt, grace + std::chrono::seconds(3));
    EXPECT_EQ(running.size(), 1u) << "the helper that ignores SIGTERM was not running";
    const auto helpers = testing::processesWithArgv({"sleep", token});
    EXPECT_EQ(testing::survivorsAfter(helpers, std::chrono::seconds(2)).size(), 0u)
        << "a process of the step's tree survived the cancel";
}

TEST(HostExecutor, RefusesRemappedBinds) {
    HostExecutor ex;
    EXPECT_THROW(ex.prepare({.job_id = "t", .binds = {{"/tmp", "/workspace", true}}}), std::exception);
}

}  // namespace
}  // namespace nixjail::executor
