#include "executor/host/host_executor.h"

#include <gtest/gtest.h>

#include <thread>

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

TEST(HostExecutor, RefusesRemappedBinds) {
    HostExecutor ex;
    EXPECT_THROW(ex.prepare({.job_id = "t", .binds = {{"/tmp", "/workspace", true}}}), std::exception);
}

}  // namespace
}  // namespace nixjail::executor
