// systemd's verdict on a unit, as the ExecStopPost=+ recorder writes it, becomes a StepResult.
#include "executor/systemd/unit_result.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace nixjail::executor::sysd {
namespace {

StepResult parsed(const std::string& text) {
    StepResult r;
    applyUnitResult(text, r);
    return r;
}

TEST(UnitResult, SuccessIsExitZero) {
    auto r = parsed("success exited 0\n");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.setup_error, "");
    EXPECT_TRUE(r.succeeded());
}

TEST(UnitResult, ExitCodeIsPassedThrough) {
    auto r = parsed("exit-code exited 7\n");
    EXPECT_EQ(r.exit_code, 7);
    EXPECT_EQ(r.term_signal, 0);
}

TEST(UnitResult, SignalNameBecomesItsNumber) {
    auto r = parsed("signal killed KILL\n");
    EXPECT_EQ(r.exit_code, -1);
    EXPECT_EQ(r.term_signal, SIGKILL);
    EXPECT_EQ(parsed("core-dump dumped SEGV\n").term_signal, SIGSEGV);
}

TEST(UnitResult, OomKillAndTimeoutAreFlagged) {
    auto oom = parsed("oom-kill killed KILL\n");
    EXPECT_TRUE(oom.oom_killed);
    EXPECT_EQ(oom.term_signal, SIGKILL);
    auto slow = parsed("timeout killed TERM\n");
    EXPECT_TRUE(slow.timed_out);
    EXPECT_EQ(slow.term_signal, SIGTERM);
}

TEST(UnitResult, SystemdSetupStatusIsASetupError) {
    auto r = parsed("exit-code exited 203\n");
    EXPECT_EQ(r.exit_code, -1);
    EXPECT_NE(r.setup_error.find("203 (EXEC)"), std::string::npos) << r.setup_error;
    EXPECT_NE(parsed("exit-code exited 226\n").setup_error.find("NAMESPACE"), std::string::npos);
    EXPECT_STREQ(setupStatusName(208), "STDIN");
    EXPECT_STREQ(setupStatusName(217), "USER");
    EXPECT_STREQ(setupStatusName(233), "RUNTIME_DIRECTORY");
    EXPECT_STREQ(setupStatusName(235), "CHOWN");
    EXPECT_STREQ(setupStatusName(243), "CREDENTIALS");
    EXPECT_EQ(setupStatusName(199), nullptr);
    EXPECT_EQ(setupStatusName(244), nullptr);
}

TEST(UnitResult, AccountingLinesFillPeakMemoryAndCpu) {
    auto r = parsed(
        "success exited 0\n"
        "10485760\n"
        "usage_usec 2500000\n"
        "user_usec 2000000\n"
        "system_usec 500000\n");
    EXPECT_EQ(r.peak_memory_bytes, 10485760u);
    EXPECT_EQ(r.cpu_time, std::chrono::milliseconds(2500));
}

TEST(UnitResult, CgroupV1PeakAndOomKillCountFillWhatSystemdDoesNotReportThere) {
    auto r = parsed("signal killed KILL\n73400320\noom_kill 1\n");
    EXPECT_TRUE(r.oom_killed);
    EXPECT_EQ(r.term_signal, SIGKILL);
    EXPECT_EQ(r.peak_memory_bytes, 73400320u);
    EXPECT_FALSE(parsed("success exited 0\n1024\noom_kill 0\n").oom_killed);
}

TEST(UnitResult, LimitLinesTellTheSelfCheckWhatTheUnitsCgroupCarried) {
    EXPECT_FALSE(parsed("success exited 0\n1024\n").applied_limits) << "no lines: unknown";
    auto v2 = parsed("success exited 0\nlimit_memory 4294967296\nlimit_pids 4096\n");
    ASSERT_TRUE(v2.applied_limits);
    EXPECT_EQ(v2.applied_limits->memory_max_bytes, 4294967296u);
    EXPECT_EQ(v2.applied_limits->pids_max, 4096u);
    EXPECT_EQ(v2.peak_memory_bytes, 0u) << "a limit is not a peak";
    auto unlimited = parsed("success exited 0\nlimit_memory max\nlimit_pids max\n");
    ASSERT_TRUE(unlimited.applied_limits);
    EXPECT_FALSE(unlimited.applied_limits->memory_max_bytes);
    EXPECT_FALSE(unlimited.applied_limits->pids_max);
    auto v1 = parsed("success exited 0\nlimit_memory 9223372036854771712\nlimit_pids 512\n");
    EXPECT_FALSE(v1.applied_limits->memory_max_bytes) << "v1's unlimited";
    EXPECT_EQ(v1.applied_limits->pids_max, 512u);
}

TEST(UnitResult, GarbageIsASetupErrorNotASuccess) {
    auto r = parsed("");
    EXPECT_FALSE(r.succeeded());
    EXPECT_NE(r.setup_error.find("no result"), std::string::npos);
    EXPECT_FALSE(parsed("exit-code exited seven\n").succeeded());
    auto failed = parsed("resources  \n4096\n");
    EXPECT_FALSE(failed.succeeded());
    EXPECT_NE(failed.setup_error.find("'resources'"), std::string::npos) << failed.setup_error;
}

}  // namespace
}  // namespace nixjail::executor::sysd
