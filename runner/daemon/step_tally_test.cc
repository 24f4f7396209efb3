// StepTally without a database: which events make a row, with which index, times, usage and
// timeout; nested steps fold into their parent, a skipped step gets a row without starting.
#include "runner/daemon/step_tally.h"

#include <gtest/gtest.h>

namespace nixjail::runner::daemon {
namespace {

using std::chrono::milliseconds;

actions::StepRecord step(const std::string& name, std::optional<milliseconds> cpu = std::nullopt,
                         std::optional<uint64_t> peak = std::nullopt) {
    actions::StepRecord s;
    s.name = name;
    s.outcome = s.conclusion = actions::Result::kSuccess;
    s.exit_code = 0;
    s.cpu_time = cpu;
    s.peak_memory_bytes = peak;
    return s;
}

TEST(StepTally, AJobStepGetsARowWithItsTimesAndUsage) {
    StepTally tally;
    tally.started(100);
    auto row = tally.finished(step("build", milliseconds(1500), 40), 250);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->index, 0);
    EXPECT_EQ(row->name, "build");
    EXPECT_EQ(row->status, "success");
    EXPECT_EQ(row->started_at_ms, 100);
    EXPECT_EQ(row->ended_at_ms, 250);
    EXPECT_EQ(row->exit_code, 0);
    EXPECT_EQ(row->cpu_seconds, 1.5);
    EXPECT_EQ(row->peak_memory_bytes, 40);
    EXPECT_FALSE(row->oom);
    EXPECT_FALSE(row->timed_out);
}

TEST(StepTally, NestedStepsFoldIntoTheirParentAndTheJob) {
    StepTally tally;
    tally.started(1);
    tally.started(2);
    auto inner = step("inner", milliseconds(100), 30);
    inner.timed_out = true;
    EXPECT_FALSE(tally.finished(inner, 3));
    tally.started(4);
    EXPECT_FALSE(tally.finished(step("inner 2", milliseconds(200), 10), 5));
    auto parent = tally.finished(step("composite"), 6);
    ASSERT_TRUE(parent);
    EXPECT_EQ(parent->index, 0);
    EXPECT_EQ(parent->started_at_ms, 1);
    EXPECT_NEAR(*parent->cpu_seconds, 0.3, 1e-9);
    EXPECT_EQ(parent->peak_memory_bytes, 30);
    EXPECT_TRUE(parent->timed_out);

    // The next step starts clean; the job's usage holds both.
    tally.started(7);
    auto next = tally.finished(step("after", milliseconds(50), 5), 8);
    ASSERT_TRUE(next);
    EXPECT_EQ(next->index, 1);
    EXPECT_FALSE(next->timed_out);
    EXPECT_EQ(next->peak_memory_bytes, 5);
    EXPECT_EQ(tally.jobUsage().cpu, milliseconds(350));
    EXPECT_EQ(tally.jobUsage().peak_memory_bytes, 30u);
}

TEST(StepTally, ASkippedStepGetsARowThatEndsWhereItStarts) {
    StepTally tally;
    auto skipped = step("skipped");
    skipped.outcome = skipped.conclusion = actions::Result::kSkipped;
    skipped.exit_code = -1;
    auto row = tally.finished(skipped, 42);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->status, "skipped");
    EXPECT_EQ(row->started_at_ms, 42);
    EXPECT_FALSE(row->exit_code);
    EXPECT_FALSE(row->cpu_seconds);
    EXPECT_FALSE(row->peak_memory_bytes);
    EXPECT_FALSE(tally.jobUsage().cpu);
}

TEST(StepTally, AStepKilledForMemoryIsOom) {
    StepTally tally;
    tally.started(1);
    auto hog = step("hog");
    hog.outcome = hog.conclusion = actions::Result::kFailure;
    hog.error = "the step ran out of memory and was killed";
    auto row = tally.finished(hog, 2);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->status, "failure");
    EXPECT_TRUE(row->oom);
}

}  // namespace
}  // namespace nixjail::runner::daemon
