// A step's prelude in the namespace jail (StepInvocation::prelude): it runs in the step's own jail
// before the step, its output is its own, the limits it is judged with are the step's, and a
// refusal means nothing of the step runs (needs root).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>

#include "executor/namespace/namespace_executor.h"
#include "executor/namespace/test_root.h"
#include "runner/base/temp_dir.h"

namespace nixjail::executor {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class PreludeTest : public ::testing::Test {
  protected:
    void SetUp() override {
        NIXJAIL_REQUIRE_JAIL();
        root_ = std::make_unique<testing::TestRoot>(executor_);
        jail_ = executor_.prepare(root_->spec("prelude-test"));
    }

    // The step leaves a mark in the workspace; the prelude runs `prelude` with sh.
    StepResult run(const std::string& prelude, std::function<std::string(const PreludeResult&)> admit,
                   milliseconds timeout = std::chrono::seconds(30), std::stop_token cancel = {}) {
        StepInvocation step;
        step.argv = {"/bin/sh", "-c", "echo step-output; touch /workspace/step-ran"};
        step.env = {"PATH=/usr/bin:/bin"};
        step.cwd = "/workspace";
        step.cancel = cancel;
        step.on_output = [this](std::string_view s) { step_output_ += s; };
        step.prelude = StepPrelude{.argv = {"/bin/sh", "-c", prelude},
                                   .env = {"PATH=/usr/bin:/bin"},
                                   .cwd = "/",
                                   .timeout = timeout,
                                   .admit = [this, admit](const PreludeResult& r) {
                                       ++admitted_;
                                       seen_ = r;
                                       return admit(r);
                                   }};
        return jail_->run(step);
    }

    bool stepRan() const { return fs::exists(root_->workspace() / "step-ran"); }

    NamespaceExecutor executor_;
    std::unique_ptr<testing::TestRoot> root_;
    std::unique_ptr<Jail> jail_;
    std::string step_output_;
    PreludeResult seen_;
    int admitted_ = 0;
};

TEST_F(PreludeTest, AnAdmittedStepRunsAfterItWithItsOwnOutput) {
    const auto r = run("echo prelude-output; echo to-stderr >&2; exit 3", [](const PreludeResult&) { return ""; });
    EXPECT_TRUE(r.succeeded()) << r.setup_error;
    EXPECT_EQ(admitted_, 1);
    EXPECT_EQ(seen_.output, "prelude-output\nto-stderr\n");
    EXPECT_EQ(seen_.exit_code, 3);
    EXPECT_EQ(seen_.setup_error, "");
    EXPECT_EQ(step_output_, "step-output\n");
    EXPECT_TRUE(stepRan());
}

// The limits admit() judges are the ones the step then runs under, read before either started.
TEST_F(PreludeTest, ItIsJudgedWithTheStepsLimits) {
    const auto r = run("true", [](const PreludeResult&) { return ""; });
    ASSERT_TRUE(seen_.applied_limits.has_value());
    ASSERT_TRUE(r.applied_limits.has_value());
    EXPECT_EQ(seen_.applied_limits->memory_max_bytes, r.applied_limits->memory_max_bytes);
    EXPECT_EQ(seen_.applied_limits->pids_max, r.applied_limits->pids_max);
    EXPECT_EQ(seen_.applied_limits->pids_max, root_->spec("prelude-test").limits.pids_max);
}

TEST_F(PreludeTest, ARefusedStepNeverRuns) {
    const auto r = run("echo verdict", [](const PreludeResult&) { return "the verdict was no"; });
    EXPECT_EQ(r.setup_error, "prelude: the verdict was no");
    EXPECT_FALSE(r.succeeded());
    EXPECT_FALSE(stepRan());
    EXPECT_EQ(step_output_, "");
    EXPECT_EQ(seen_.output, "verdict\n");
}

TEST_F(PreludeTest, APreludeThatCannotStartIsJudgedWithWhy) {
    StepInvocation step;
    step.argv = {"/bin/sh", "-c", "touch /workspace/step-ran"};
    step.cwd = "/";
    step.prelude = StepPrelude{.argv = {"/nonexistent/check"},
                               .cwd = "/",
                               .admit = [this](const PreludeResult& p) {
                                   seen_ = p;
                                   return p.setup_error.empty() ? "" : "not started";
                               }};
    const auto r = jail_->run(step);
    EXPECT_EQ(r.setup_error, "prelude: not started");
    EXPECT_NE(seen_.setup_error.find("exec"), std::string::npos) << seen_.setup_error;
    EXPECT_NE(seen_.setup_error.find("No such file"), std::string::npos) << seen_.setup_error;
    EXPECT_FALSE(stepRan());
}

// A jail whose set-up fails before its prelude: admit() hears why (the init's own report).
TEST_F(PreludeTest, AJailThatCannotBeSetUpTellsThePreludesJudgeWhy) {
    base::TempDir hidden("nixjail-hidden-");  // 0700, owned by root: the jail's ids cannot bind it
    std::filesystem::create_directory(hidden.path() / "data");
    auto spec = root_->spec("prelude-test");
    spec.binds.push_back({.host = hidden.path() / "data", .jail = "/data"});
    jail_ = executor_.prepare(spec);
    const auto r = run("echo never", [](const PreludeResult& p) { return p.setup_error.empty() ? "" : "not set up"; });
    EXPECT_EQ(admitted_, 1);
    EXPECT_NE(seen_.setup_error.find("mounts: bind"), std::string::npos) << seen_.setup_error;
    EXPECT_NE(seen_.setup_error.find("'/data': Permission denied"), std::string::npos) << seen_.setup_error;
    EXPECT_EQ(seen_.output, "");
    EXPECT_EQ(r.setup_error, "prelude: not set up");
    EXPECT_FALSE(stepRan());
}

TEST_F(PreludeTest, APreludeThatOverrunsItsTimeIsKilledAndTheStepNeverRuns) {
    const auto start = std::chrono::steady_clock::now();
    const auto r = run("sleep 30", [](const PreludeResult&) { return ""; }, milliseconds(300));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    EXPECT_TRUE(seen_.timed_out);
    EXPECT_NE(r.setup_error.find("prelude: it did not finish within"), std::string::npos) << r.setup_error;
    EXPECT_FALSE(stepRan());
}

TEST_F(PreludeTest, ACancelDuringThePreludeCancelsTheStep) {
    std::stop_source stop;
    std::thread canceller([&] {
        std::this_thread::sleep_for(milliseconds(300));
        stop.request_stop();
    });
    const auto r = run("sleep 30", [](const PreludeResult&) { return ""; }, std::chrono::seconds(30), stop.get_token());
    canceller.join();
    EXPECT_TRUE(r.cancelled);
    EXPECT_TRUE(seen_.cancelled);
    EXPECT_FALSE(stepRan());
}

// The attack: a prelude (or anything it starts) that could write to the runner's channel could
// forge its own verdict's wait status or release the step early. It holds no fd beyond stdio.
TEST_F(PreludeTest, ThePreludeHoldsNothingOfTheRunnersButItsStdio) {
    run("ls /proc/self/fd", [](const PreludeResult&) { return ""; });
    // ls itself opens one directory fd (3).
    EXPECT_EQ(seen_.output, "0\n1\n2\n3\n");
}

// A refused step leaves nothing behind: the jail's processes are gone with it.
TEST_F(PreludeTest, ARefusalLeavesNoProcessBehind) {
    run("sleep 1000 & echo started", [](const PreludeResult&) { return "no"; });
    EXPECT_EQ(seen_.output, "started\n");
    // Any process of the jail would still be in its pid namespace; the sleep's name is unique.
    const auto r = ::system("pgrep -x -f 'sleep 1000' > /dev/null");
    EXPECT_NE(WEXITSTATUS(r), 0) << "the prelude's child outlived the refused step";
}

}  // namespace
}  // namespace nixjail::executor
