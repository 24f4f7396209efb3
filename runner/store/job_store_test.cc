// JobStore: recording a job's life and reading it back, stats over several jobs.
#include "runner/store/job_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "runner/base/temp_dir.h"
#include "runner/store/migrations.h"

namespace nixjail::runner::store {
namespace {

class JobStoreTest : public ::testing::Test {
  protected:
    base::TempDir dir_{"nixjail-store-"};
    JobStore store_{dir_.path() / "jobs.db"};

    int64_t addJob(int64_t task, const std::string& status, int64_t exec_ms, bool ws_hit) {
        int64_t id =
            store_.recordJobStart({task, "acme/app", "ci.yml", "build", "{}", "nix", task * 10});
        store_.recordPhase(id, Phase::Execution, exec_ms);
        store_.recordCacheResult(id, CacheKind::Workspace, ws_hit);
        store_.finishJob(
            id, {status, task * 10 + 5, status == "failure" ? "step 'test' exited 1" : ""});
        return id;
    }
};

TEST_F(JobStoreTest, RecordsAJobWithStepsAndDecisions) {
    int64_t id = store_.recordJobStart(
        {42, "acme/app", "ci.yml", "build", "{\"os\":\"linux\"}", "nix,x86", 1000});
    for (Phase p : kAllPhases) store_.recordPhase(id, p, 10);
    store_.recordPhase(id, Phase::Execution, 500);
    store_.recordCacheResult(id, CacheKind::Root, true);
    store_.recordCacheResult(id, CacheKind::Workspace, false);
    store_.recordCacheResult(id, CacheKind::Closure, true);
    store_.recordStep(id, {0, "checkout", "running", 1001, {}, {}, {}, {}, false, false});
    store_.recordStep(id, {0, "checkout", "success", 1001, 1100, 0, 99, 1 << 20, false, false});
    store_.recordStep(id, {1, "build", "failure", 1100, 1500, {}, 400, {}, true, false});
    store_.recordNetworkDecision(
        id, {1200, "GET", "cache.nixos.org", "/nix-cache-info", "allow nix", "allow", 312, ""});
    store_.recordNetworkDecision(id, {1300, "POST", "evil.example", "/", "", "deny", 0, ""});
    store_.finishJob(
        id, {"failure", 1600, "step 'build' killed: out of memory", 123456, 37, 2 << 20, 1.5});

    auto jobs = store_.recentJobs(10);
    ASSERT_EQ(jobs.size(), 1u);
    const auto& j = jobs[0];
    EXPECT_EQ(j.start.forge_task_id, 42);
    EXPECT_EQ(j.start.matrix, "{\"os\":\"linux\"}");
    EXPECT_EQ(j.status, "failure");
    EXPECT_EQ(j.ended_at_ms, 1600);
    EXPECT_EQ(j.phase_ms.at("execution"), 500);
    EXPECT_EQ(j.phase_ms.at("cleanup"), 10);
    EXPECT_EQ(j.root_cache_hit, true);
    EXPECT_EQ(j.workspace_cache_hit, false);
    EXPECT_EQ(j.closure_cache_hit, true);
    EXPECT_EQ(j.closure_path_count, 37);
    EXPECT_EQ(j.cpu_seconds, 1.5);
    EXPECT_EQ(j.exit_reason, "step 'build' killed: out of memory");

    auto steps = store_.steps(id);
    ASSERT_EQ(steps.size(), 2u);
    EXPECT_EQ(steps[0].status, "success");
    EXPECT_EQ(steps[0].exit_code, 0);
    EXPECT_TRUE(steps[1].oom);
    EXPECT_FALSE(steps[1].exit_code.has_value());

    auto decisions = store_.networkDecisions(id);
    ASSERT_EQ(decisions.size(), 2u);
    EXPECT_EQ(decisions[0].host, "cache.nixos.org");
    EXPECT_EQ(decisions[1].decision, "deny");
}

TEST_F(JobStoreTest, JailChecksAreKeptPerJobInOrder) {
    const int64_t refused = addJob(1, "failure", 0, false);
    const int64_t other = addJob(2, "success", 10, false);
    store_.recordJailChecks(refused, {{"capabilities", true, "none"},
                                      {"network", false, "not only loopback: interface eth0"},
                                      {"cgroup", true, "memory 4 GiB, processes 4096"}});
    store_.recordJailChecks(other, {{"seccomp", true, "filter mode"}});
    const auto checks = store_.jailChecks(refused);
    ASSERT_EQ(checks.size(), 3u);
    EXPECT_EQ(checks[1].name, "network");
    EXPECT_FALSE(checks[1].passed);
    EXPECT_EQ(checks[1].detail, "not only loopback: interface eth0");
    EXPECT_TRUE(checks[2].passed);
    EXPECT_EQ(store_.jailChecks(other).size(), 1u);
    EXPECT_TRUE(store_.jailChecks(999).empty());
}

TEST_F(JobStoreTest, ReplayRecordRoundTripsAndIsReplacedByTheLaterOne) {
    const int64_t id = addJob(3, "success", 10, true);
    const int64_t other = addJob(4, "failure", 10, false);
    EXPECT_EQ(store_.replayRecord(id), std::nullopt) << "none until the recorder writes one";
    store_.recordReplay(id, R"({"job_id":"build","root":null})");
    store_.recordReplay(id, R"({"job_id":"build","root":{"closure_key":"3f9c"}})");
    EXPECT_EQ(store_.replayRecord(id), R"({"job_id":"build","root":{"closure_key":"3f9c"}})");
    EXPECT_EQ(store_.replayRecord(other), std::nullopt);
    EXPECT_EQ(store_.replayRecord(999), std::nullopt);
    JobStore again(dir_.path() / "jobs.db");
    EXPECT_EQ(again.replayRecord(id), R"({"job_id":"build","root":{"closure_key":"3f9c"}})");
}

TEST_F(JobStoreTest, OneJobIsFoundByItsId) {
    addJob(1, "success", 100, true);
    const int64_t id = addJob(2, "failure", 200, false);
    const auto row = store_.job(id);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->id, id);
    EXPECT_EQ(row->start.forge_task_id, 2);
    EXPECT_EQ(row->status, "failure");
    EXPECT_EQ(row->phase_ms.at("execution"), 200);
    EXPECT_EQ(store_.job(id + 100), std::nullopt);
}

TEST_F(JobStoreTest, RecentJobsNewestFirstAndFailedFilter) {
    addJob(1, "success", 100, true);
    addJob(2, "failure", 200, false);
    addJob(3, "success", 300, true);
    auto all = store_.recentJobs(2);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].start.forge_task_id, 3);
    EXPECT_EQ(all[1].start.forge_task_id, 2);
    auto failed = store_.recentJobs(10, true);
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(failed[0].start.forge_task_id, 2);
}

TEST_F(JobStoreTest, StatsGivePercentilesAndHitRates) {
    for (int i = 1; i <= 20; ++i) addJob(i, i == 20 ? "failure" : "success", i * 10, i % 4 != 0);
    auto s = store_.stats();
    EXPECT_EQ(s.jobs_by_status.at("success"), 19);
    EXPECT_EQ(s.jobs_by_status.at("failure"), 1);
    ASSERT_EQ(s.phases.size(), 1u);
    EXPECT_EQ(s.phases[0].phase, "execution");
    EXPECT_EQ(s.phases[0].count, 20);
    EXPECT_EQ(s.phases[0].p50_ms, 100);
    EXPECT_EQ(s.phases[0].p95_ms, 190);
    EXPECT_EQ(s.workspace.hits, 15);
    EXPECT_EQ(s.workspace.misses, 5);
    EXPECT_DOUBLE_EQ(s.workspace.hitRate(), 0.75);
    EXPECT_EQ(s.root.hits + s.root.misses, 0);
}

TEST_F(JobStoreTest, DataSurvivesReopen) {
    addJob(5, "success", 50, true);
    JobStore again(dir_.path() / "jobs.db");
    auto jobs = again.recentJobs(10);
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].start.forge_task_id, 5);
}

TEST_F(JobStoreTest, ConcurrentRecordingFromJobThreads) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([this, t] {
            for (int i = 0; i < 10; ++i) {
                int64_t id = store_.recordJobStart({t * 100 + i, "r", "w", "j", "", "", i});
                store_.recordStep(id, {0, "s", "success", {}, {}, 0, 1, {}, false, false});
                store_.finishJob(id, {"success", i + 1, ""});
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(store_.stats().jobs_by_status.at("success"), 40);
}

}  // namespace
}  // namespace nixjail::runner::store

namespace nixjail::runner::store {
namespace {

TEST(JobStoreRestart, InterruptedJobsAreFailedAndTheirTasksReturned) {
    base::TempDir dir;
    JobStore store(dir.path() / "jobs.db");
    const int64_t running = store.recordJobStart({.forge_task_id = 7, .job = "build", .started_at_ms = 1});
    const int64_t done = store.recordJobStart({.forge_task_id = 8, .job = "test", .started_at_ms = 2});
    store.finishJob(done, {.status = "success", .ended_at_ms = 3});
    EXPECT_EQ(store.failInterruptedJobs(10, "the runner stopped"), std::vector<int64_t>{7});
    auto jobs = store.recentJobs(10);
    ASSERT_EQ(jobs.size(), 2u);
    for (const auto& j : jobs) {
        if (j.id != running) continue;
        EXPECT_EQ(j.status, "failure");
        EXPECT_EQ(j.exit_reason, "the runner stopped");
        EXPECT_EQ(j.ended_at_ms, 10);
    }
    EXPECT_TRUE(store.failInterruptedJobs(11, "again").empty());
}

// A job recorded by a runner before migration 007 is still there afterwards, without replay data.
TEST(JobStoreRestart, AJobFromBeforeMigration7HasNoReplayRecord) {
    base::TempDir dir;
    {
        Database db(dir.path() / "jobs.db");
        const auto& all = embeddedMigrations();
        applyMigrations(db, std::vector<Migration>(all.begin(), all.begin() + 6));
        db.exec(
            "INSERT INTO jobs (forge_task_id, job, status, started_at_ms)"
            " VALUES (5, 'old', 'success', 1)");
    }
    JobStore store(dir.path() / "jobs.db");
    const auto jobs = store.recentJobs(1);
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].start.job, "old");
    EXPECT_EQ(store.replayRecord(jobs[0].id), std::nullopt);
}

TEST(JobStoreRestart, RunnerEventsNewestFirst) {
    base::TempDir dir;
    JobStore store(dir.path() / "jobs.db");
    store.recordEvent(1, "startup_sweep", "cgroups=0");
    store.recordEvent(2, "startup_sweep", "cgroups=2");
    auto events = store.runnerEvents(10);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].detail, "cgroups=2");
    EXPECT_EQ(events[1].kind, "startup_sweep");
}

}  // namespace
}  // namespace nixjail::runner::store
