// JobRecorder: the CPU time and memory peak of each step reach its row, and the job's row holds
// their sum and maximum (nested steps of a composite action count for their parent).
#include "runner/daemon/job_recorder.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "runner/base/temp_dir.h"

namespace nixjail::runner::daemon {
namespace {

using std::chrono::milliseconds;

class JobRecorderUsageTest : public ::testing::Test {
  protected:
    JobRecorderUsageTest()
        : db_(dir_.path() / "jobs.sqlite"),
          recorder_(db_, metrics_,
                    std::make_shared<spdlog::logger>(
                        "t", std::make_shared<spdlog::sinks::null_sink_mt>())) {}

    static actions::StepRecord step(const std::string& name, std::optional<milliseconds> cpu,
                                   std::optional<uint64_t> peak) {
        actions::StepRecord s;
        s.name = name;
        s.outcome = s.conclusion = actions::Result::kSuccess;
        s.exit_code = 0;
        s.cpu_time = cpu;
        s.peak_memory_bytes = peak;
        return s;
    }

    void run(const actions::StepRecord& s) {
        recorder_.stepStarted(s);
        recorder_.stepFinished(s);
    }

    base::TempDir dir_;
    store::JobStore db_;
    Metrics metrics_;
    JobRecorder recorder_;
};

TEST_F(JobRecorderUsageTest, StepRowsHoldTheirUsageAndTheJobTheSumAndPeak) {
    ASSERT_TRUE(recorder_.start({.forge_task_id = 1, .job = "build", .started_at_ms = 1}));
    run(step("compile", milliseconds(1500), 40u << 20));
    run(step("checkout", std::nullopt, std::nullopt));  // no process: nothing measured
    run(step("test", milliseconds(250), 90u << 20));
    recorder_.finish("success", "");

    auto jobs = db_.recentJobs(1);
    ASSERT_EQ(jobs.size(), 1u);
    ASSERT_TRUE(jobs[0].peak_memory_bytes.has_value());
    EXPECT_EQ(*jobs[0].peak_memory_bytes, int64_t{90} << 20);
    ASSERT_TRUE(jobs[0].cpu_seconds.has_value());
    EXPECT_DOUBLE_EQ(*jobs[0].cpu_seconds, 1.75);

    auto steps = db_.steps(jobs[0].id);
    ASSERT_EQ(steps.size(), 3u);
    EXPECT_EQ(steps[0].peak_memory_bytes, int64_t{40} << 20);
    EXPECT_EQ(steps[0].cpu_seconds, 1.5);
    EXPECT_FALSE(steps[1].peak_memory_bytes.has_value());
    EXPECT_FALSE(steps[1].cpu_seconds.has_value());
    EXPECT_EQ(steps[2].peak_memory_bytes, int64_t{90} << 20);
    EXPECT_EQ(steps[2].cpu_seconds, 0.25);
}

TEST_F(JobRecorderUsageTest, NestedStepsCountForTheirParentStep) {
    ASSERT_TRUE(recorder_.start({.forge_task_id = 2, .job = "composite", .started_at_ms = 1}));
    auto parent = step("composite action", std::nullopt, std::nullopt);
    recorder_.stepStarted(parent);
    run(step("inner 1", milliseconds(100), 10u << 20));
    run(step("inner 2", milliseconds(300), 30u << 20));
    recorder_.stepFinished(parent);
    run(step("after", milliseconds(50), 5u << 20));
    recorder_.finish("success", "");

    auto jobs = db_.recentJobs(1);
    ASSERT_EQ(jobs.size(), 1u);
    auto steps = db_.steps(jobs[0].id);
    ASSERT_EQ(steps.size(), 2u);
    EXPECT_EQ(steps[0].name, "composite action");
    EXPECT_EQ(steps[0].peak_memory_bytes, int64_t{30} << 20);
    EXPECT_EQ(steps[0].cpu_seconds, 0.4);
    EXPECT_EQ(steps[1].peak_memory_bytes, int64_t{5} << 20);
    EXPECT_EQ(steps[1].cpu_seconds, 0.05);
    EXPECT_EQ(jobs[0].peak_memory_bytes, int64_t{30} << 20);
    ASSERT_TRUE(jobs[0].cpu_seconds.has_value());
    EXPECT_NEAR(*jobs[0].cpu_seconds, 0.45, 1e-9);
}

TEST_F(JobRecorderUsageTest, AJobWithoutMeasuredStepsLeavesTheColumnsEmpty) {
    ASSERT_TRUE(recorder_.start({.forge_task_id = 3, .job = "skipped", .started_at_ms = 1}));
    recorder_.stepFinished(step("skipped", std::nullopt, std::nullopt));
    recorder_.finish("success", "");
    auto jobs = db_.recentJobs(1);
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_FALSE(jobs[0].peak_memory_bytes.has_value());
    EXPECT_FALSE(jobs[0].cpu_seconds.has_value());
}

TEST_F(JobRecorderUsageTest, AStepKilledForMemoryIsMarkedOom) {
    ASSERT_TRUE(recorder_.start({.forge_task_id = 4, .job = "oom", .started_at_ms = 1}));
    auto s = step("hog", milliseconds(10), 64u << 20);
    s.outcome = s.conclusion = actions::Result::kFailure;
    s.exit_code = -1;
    s.error = "the step ran out of memory and was killed";
    run(s);
    recorder_.finish("failure", "step failed");
    auto steps = db_.steps(db_.recentJobs(1)[0].id);
    ASSERT_EQ(steps.size(), 1u);
    EXPECT_TRUE(steps[0].oom);
    EXPECT_FALSE(steps[0].timed_out);
}

TEST_F(JobRecorderUsageTest, AStepKilledAtItsTimeoutIsMarkedTimedOutAlsoFromANestedStep) {
    ASSERT_TRUE(recorder_.start({.forge_task_id = 5, .job = "slow", .started_at_ms = 1}));
    auto slow = step("slow", milliseconds(10), 1u << 20);
    slow.outcome = slow.conclusion = actions::Result::kFailure;
    slow.error = "the step exceeded its time limit and was killed";
    slow.timed_out = true;
    run(slow);
    auto parent = step("composite action", std::nullopt, std::nullopt);
    recorder_.stepStarted(parent);
    run(slow);
    recorder_.stepFinished(parent);
    run(step("fine", milliseconds(1), 1u << 20));
    recorder_.finish("failure", "step failed");
    auto steps = db_.steps(db_.recentJobs(1)[0].id);
    ASSERT_EQ(steps.size(), 3u);
    EXPECT_TRUE(steps[0].timed_out);
    EXPECT_TRUE(steps[1].timed_out) << "a nested step's timeout counts for its parent";
    EXPECT_FALSE(steps[2].timed_out);
    EXPECT_FALSE(steps[0].oom);
}

TEST_F(JobRecorderUsageTest, TheClosureFactsReachTheJobRowAndTheMetrics) {
    ASSERT_TRUE(recorder_.start({.forge_task_id = 6, .job = "jailed", .started_at_ms = 1}));
    actions::PhaseRecord closure{.phase = actions::Phase::kClosureResolution,
                                .duration = milliseconds(3)};
    closure.facts = {{"closure_paths", 37}, {"closure_bytes", 123456789}};
    recorder_.phaseFinished(closure);
    recorder_.finish("success", "");
    auto jobs = db_.recentJobs(1);
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].closure_path_count, 37);
    EXPECT_EQ(jobs[0].closure_size_bytes, 123456789);
    const auto text = metrics_.render();
    EXPECT_NE(text.find("nixjail_closure_paths_total 37\n"), std::string::npos) << text;
    EXPECT_NE(text.find("nixjail_closure_size_bytes 123456789\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace nixjail::runner::daemon
