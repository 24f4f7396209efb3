// Live tests of the systemd backend: real transient units. They run only where systemd is PID 1
// and skip with "systemd is not PID 1" elsewhere, also under NIXJAIL_TESTS_STRICT=1; CI runs them
// under a systemd booted in a root of its own (tests/systemd, ctest label "systemd"), with the
// step account created as an admin would (stepAccountCommand()).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "executor/executor_factory.h"
#include "executor/namespace/test_root.h"
#include "executor/systemd/systemd_executor.h"
#include "executor/test_processes.h"
#include "runner/base/file_io.h"

namespace nixjail::executor {
namespace {

const std::vector<std::string> kEnv = {"PATH=/usr/bin:/bin", "HOME=/workspace", "LANG=C"};

class SystemdJailTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!systemdIsPid1()) GTEST_SKIP() << "systemd is not PID 1";
        if (::geteuid() != 0) {
            const char* strict = std::getenv("NIXJAIL_TESTS_STRICT");
            if (strict && std::string(strict) == "1") FAIL() << "needs root for system units";
            GTEST_SKIP() << "needs root: transient system units";
        }
        executor_ = makeSystemdExecutor();
        root_ = std::make_unique<testing::TestRoot>(ns_);
    }

    StepResult run(Jail& jail, std::vector<std::string> argv, std::string* out,
                   std::optional<std::chrono::milliseconds> timeout = {},
                   std::stop_token cancel = {}) {
        StepInvocation step;
        step.argv = std::move(argv);
        step.env = kEnv;
        step.cwd = "/workspace";
        step.timeout = timeout;
        step.cancel = cancel;
        step.on_output = [out](std::string_view s) {
            if (out) out->append(s);
        };
        return jail.run(step);
    }

    StepResult sh(const std::string& script, std::string* out = nullptr,
                  HardeningProfile profile = HardeningProfile::kDefault) {
        auto spec = root_->spec("systemd-live");
        spec.profile = profile;
        auto jail = executor_->prepare(spec);
        return run(*jail, {"sh", "-c", script}, out);
    }

    NamespaceExecutor ns_;  // only for TestRoot's workspace owner (the same default step ids)
    std::unique_ptr<Executor> executor_;
    std::unique_ptr<testing::TestRoot> root_;
};

TEST_F(SystemdJailTest, ExitCodeOutputEnvironmentAndDirectory) {
    std::string out;
    auto r = sh("echo hello; echo oops >&2; pwd; echo $LANG; exit 7", &out);
    EXPECT_EQ(r.setup_error, "");
    EXPECT_EQ(r.exit_code, 7);
    EXPECT_EQ(out, "hello\noops\n/workspace\nC\n");
    // The recorder read the unit's limits back, for the jail's self-check.
    ASSERT_TRUE(r.applied_limits) << "the recorder wrote no limit lines";
    EXPECT_EQ(r.applied_limits->memory_max_bytes, root_->spec("x").limits.memory_max_bytes);
    EXPECT_EQ(r.applied_limits->pids_max, root_->spec("x").limits.pids_max);
}

TEST_F(SystemdJailTest, ArgumentsWithDollarsReachTheStepUnexpanded) {
    // systemd expands $VAR, ${VAR} and $$ in unit arguments unless they are escaped.
    auto jail = executor_->prepare(root_->spec("systemd-live"));
    std::string out;
    auto r = run(*jail, {"printf", "<%s>", "$LANG", "${LANG}", "$$", "a b$"}, &out);
    EXPECT_EQ(r.exit_code, 0) << r.setup_error;
    EXPECT_EQ(out, "<$LANG><${LANG}><$$><a b$>");
}

TEST_F(SystemdJailTest, AMissingWorkingDirectoryIsASetupError) {
    auto jail = executor_->prepare(root_->spec("systemd-live"));
    StepInvocation step;
    step.argv = {"true"};
    step.env = kEnv;
    step.cwd = "/no-such-directory";
    auto r = jail->run(step);
    EXPECT_NE(r.setup_error.find("'/no-such-directory' does not exist in the jail"),
              std::string::npos)
        << r.setup_error;
}

TEST_F(SystemdJailTest, SignalIsReported) {
    auto r = sh("kill -SEGV $$");
    EXPECT_EQ(r.exit_code, -1);
    EXPECT_EQ(r.term_signal, SIGSEGV);
}

TEST_F(SystemdJailTest, RunsUnprivilegedWithoutCapabilitiesOrHostFiles) {
    std::string out;
    auto r = sh("id -u; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; cat /etc/shadow", &out);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(out.find("CapEff:\t0000000000000000"), std::string::npos) << out;
    EXPECT_NE(out.find("NoNewPrivs:\t1"), std::string::npos) << out;
    EXPECT_EQ(out.find("root:"), std::string::npos) << out;
}

TEST_F(SystemdJailTest, TimeoutStopsTheUnit) {
    auto jail = executor_->prepare(root_->spec("systemd-live"));
    std::string out;
    auto r = run(*jail, {"sleep", "60"}, &out, std::chrono::milliseconds(1000));
    EXPECT_TRUE(r.timed_out);
    EXPECT_FALSE(r.succeeded());
    EXPECT_LT(r.wall_time, std::chrono::seconds(20));
}

TEST(SystemdStepAccount, AStepUidWithoutAnAccountIsRefusedWithTheCommandThatMakesIt) {
    if (!systemdIsPid1()) GTEST_SKIP() << "systemd is not PID 1";
    SystemdOptions o;
    o.step_uid = 0x70000000 + 4242;  // no account has it
    o.step_gid = 0x70000000 + 4242;
    auto reason = systemdUnusableReason(o);
    ASSERT_TRUE(reason.has_value());
    EXPECT_NE(reason->find("uid 1879052434 and gid 1879052434"), std::string::npos) << *reason;
    EXPECT_NE(reason->find("status 217/USER"), std::string::npos) << *reason;
    EXPECT_NE(reason->find(stepAccountCommand(o)), std::string::npos) << *reason;
    try {
        makeSystemdExecutor(o);
        ADD_FAILURE() << "the systemd executor was made for a uid systemd cannot start";
    } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find("cannot use the systemd executor: steps run as uid"),
                  std::string::npos)
            << e.what();
    }
    o.dynamic_user = true;  // DynamicUser= needs no account
    EXPECT_FALSE(systemdUnusableReason(o).has_value());
}

TEST_F(SystemdJailTest, CancelStopsTheUnit) {
    auto jail = executor_->prepare(root_->spec("systemd-live"));
    std::stop_source stop;
    StepInvocation step;
    step.argv = {"sh", "-c", "echo started; exec sleep 60"};
    step.env = kEnv;
    step.cwd = "/workspace";
    step.cancel = stop.get_token();
    // Cancel once the step has started (its first output), not after a guessed delay.
    step.on_output = [&stop](std::string_view) { stop.request_stop(); };
    auto r = jail->run(step);
    EXPECT_TRUE(r.cancelled);
    EXPECT_LT(r.wall_time, std::chrono::seconds(20));
}

TEST_F(SystemdJailTest, CancelGrantsTheGracePeriodThenKillsTheTree) {
    const auto grace = std::chrono::milliseconds(1500);
    SystemdOptions o;
    o.cancel_grace = grace;
    auto quick = makeSystemdExecutor(o);
    auto jail = quick->prepare(root_->spec("systemd-live"));
    const std::string token = "7" + std::to_string(::getpid()) + "3";
    std::stop_source stop;
    std::thread canceller;
    std::chrono::steady_clock::time_point cancelledAt;
    std::vector<pid_t> running;  // the helper, seen from here when the cancel came
    std::string out;
    StepInvocation step;
    step.argv = {"sh", "-c", testing::trapsSigtermScript("/workspace/term-marker", token)};
    step.env = kEnv;
    step.cwd = "/workspace";
    step.cancel = stop.get_token();
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
    ASSERT_TRUE(canceller.joinable()) << "the step never started: " << r.setup_error << out;
    canceller.join();
    EXPECT_TRUE(r.cancelled);
    // systemd's "timeout" result here is the end of the stop's grace, not the step's limit.
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.term_signal, SIGKILL);  // it kept running through the grace period
    EXPECT_EQ(base::readFile(root_->workspace() / "term-marker"), "term\n");
    EXPECT_GE(ended - cancelledAt, grace - std::chrono::milliseconds(50));
    EXPECT_LT(ended - cancelledAt, grace + std::chrono::seconds(5));
    EXPECT_EQ(running.size(), 1u) << "the helper that ignores SIGTERM was not running";
    const auto helpers = testing::processesWithArgv({"sleep", token});
    EXPECT_EQ(testing::survivorsAfter(helpers, std::chrono::seconds(2)).size(), 0u)
        << "a process of the step's tree survived the cancel";
}

TEST_F(SystemdJailTest, TheStartUpSweepStopsTheUnitsOfItsInstance) {
    const auto sweep = sweepLeftovers("systemd", "live-sweep");
    EXPECT_FALSE(sweep.failed) << sweep.detail;
    EXPECT_EQ(sweep.detail, "systemd units of instance live-sweep stopped");
}

}  // namespace
}  // namespace nixjail::executor
