// runTask against FakeForgeClient with the host executor: what the forge is told (step states,
// log rows, outputs, results), cancellation, outages, bad payloads, and what the database keeps.
#include "runner/daemon/task_runner.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <fstream>

#include "executor/host/host_executor.h"
#include "executor/test_jailless_executor.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"
#include "runner/daemon/job_recorder.h"
#include "runner/engine/checkout_provider.h"
#include "runner/daemon/step_nesting.h"
#include "runner/forge/fake_forge_client.h"
#include "workspace-cache/git_test_repo.h"

namespace nixjail::runner::daemon {
namespace {

using forge::Result;

std::string allLog(const forge::FakeForgeClient::TaskRecord& rec) {
    std::string out;
    for (const auto& row : rec.log) out += row.content + "\n";
    return out;
}

class TaskRunnerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        config_.runner.job_timeout = std::chrono::minutes(5);
        store_ = std::make_unique<store::JobStore>(dir_.path() / "jobs.sqlite");
        res_.config = &config_;
        res_.client = &forge_;
        res_.store = store_.get();
        res_.metrics = &metrics_;
        res_.job_defaults.executor = &executor_;
        res_.forge_address = "http://forge.invalid";
        res_.log = std::make_shared<spdlog::logger>(
            "test", std::make_shared<spdlog::sinks::null_sink_mt>());
        res_.flush_interval = std::chrono::milliseconds(100);
    }

    forge::Task task(int64_t id, const std::string& yaml) {
        forge::Task t;
        t.id = id;
        t.workflow_payload = yaml;
        t.context = {{"repository", "acme/app"},
                     {"workflow", "ci.yml"},
                     {"event_name", "push"},
                     {"token", "task-token-0123456789"}};
        t.secrets = {{"GITHUB_TOKEN", "task-token-0123456789"}, {"DEPLOY_KEY", "s3cr3t-value"}};
        forge_.enqueueTask(t);
        return *forge_.fetchTask(0).task;
    }

    TaskResult run(const forge::Task& t, std::stop_token cancel = {}) {
        return runTask(t, res_, cancel, give_up_.get_token());
    }

    base::TempDir dir_;
    config::RunnerConfig config_;
    forge::FakeForgeClient forge_;
    std::unique_ptr<store::JobStore> store_;
    Metrics metrics_;
    executor::HostExecutor executor_;
    JobResources res_;
    std::stop_source give_up_;
};

TEST_F(TaskRunnerTest, ReportsStepsLogsOutputsAndRecordsTheJob) {
    auto t = task(11, R"(
on: push
jobs:
  build:
    runs-on: nix
    outputs:
      version: ${{ steps.v.outputs.version }}
    steps:
      - run: echo hello from step one
      - id: v
        run: echo "version=1.2.3" >> "$GITHUB_OUTPUT"; echo "secret is ${{ secrets.DEPLOY_KEY }}"
      - if: failure()
        run: echo never
)");
    auto r = run(t);
    EXPECT_EQ(r.result, Result::Success);
    EXPECT_TRUE(r.reported);
    auto rec = forge_.task(11);
    ASSERT_TRUE(rec);
    ASSERT_FALSE(rec->states.empty());
    const auto& last = rec->states.back();
    EXPECT_EQ(last.result, Result::Success);
    ASSERT_TRUE(last.stopped_at);
    ASSERT_EQ(last.steps.size(), 3u);
    EXPECT_EQ(last.steps[0].result, Result::Success);
    EXPECT_EQ(last.steps[1].result, Result::Success);
    EXPECT_EQ(last.steps[2].result, Result::Skipped);
    ASSERT_TRUE(last.steps[0].started_at);
    EXPECT_GT(last.steps[0].log_length, 0);
    // The first step's rows are where its log_index says.
    std::string firstStep;
    for (int64_t i = 0; i < last.steps[0].log_length; ++i) {
        firstStep += rec->log[static_cast<size_t>(last.steps[0].log_index + i)].content + "\n";
    }
    EXPECT_NE(firstStep.find("hello from step one"), std::string::npos) << firstStep;
    EXPECT_EQ(last.steps[1].log_index, last.steps[0].log_index + last.steps[0].log_length);
    const auto log = allLog(*rec);
    EXPECT_NE(log.find("secret is ***"), std::string::npos) << log;
    EXPECT_EQ(log.find("s3cr3t-value"), std::string::npos);
    EXPECT_TRUE(rec->sealed);
    EXPECT_EQ(rec->outputs.at("version"), "1.2.3");

    auto jobs = store_->recentJobs(10);
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].status, "success");
    EXPECT_EQ(jobs[0].start.forge_task_id, 11);
    EXPECT_EQ(jobs[0].start.repo, "acme/app");
    EXPECT_EQ(jobs[0].start.job, "build");
    EXPECT_EQ(jobs[0].start.labels, "nix");
    EXPECT_TRUE(jobs[0].phase_ms.count("execution"));
    auto steps = store_->steps(jobs[0].id);
    ASSERT_EQ(steps.size(), 3u);
    EXPECT_EQ(steps[1].status, "success");
    EXPECT_EQ(steps[1].exit_code, 0);
    EXPECT_EQ(steps[2].status, "skipped");
    EXPECT_NE(metrics_.render().find("nixjail_jobs_total{status=\"success\"} 1"),
              std::string::npos);
}

// The forge marked the task running when it handed it out: a job that ends before the first
// interim report costs it only the final log upload and the final state.
TEST_F(TaskRunnerTest, AJobThatEndsBeforeTheFirstFlushIsReportedOnceAtItsEnd) {
    res_.flush_interval = std::chrono::seconds(1);
    auto t = task(12, "on: push\njobs:\n  quick:\n    runs-on: nix\n    steps:\n      - run: echo quick\n");
    const int before = forge_.calls();
    auto r = run(t);
    EXPECT_EQ(r.result, Result::Success);
    auto rec = forge_.task(12);
    ASSERT_TRUE(rec);
    ASSERT_EQ(rec->states.size(), 1u);
    EXPECT_EQ(rec->states[0].result, Result::Success);
    EXPECT_TRUE(rec->sealed);
    EXPECT_NE(allLog(*rec).find("quick"), std::string::npos);
    EXPECT_EQ(forge_.calls() - before, 2) << "one UpdateLog, one UpdateTask";
}

// A longer one reports while it runs: its first state arrives while its step still runs.
TEST_F(TaskRunnerTest, AJobLongerThanTheFirstFlushIsReportedWhileItRuns) {
    auto t = task(13, "on: push\njobs:\n  slow:\n    runs-on: nix\n    steps:\n      - run: sleep 0.6\n");
    auto r = run(t);
    EXPECT_EQ(r.result, Result::Success);
    auto rec = forge_.task(13);
    ASSERT_TRUE(rec);
    ASSERT_GE(rec->states.size(), 2u);
    EXPECT_EQ(rec->states.front().result, Result::Unspecified);
    EXPECT_EQ(rec->states.back().result, Result::Success);
}

TEST_F(TaskRunnerTest, AJobRefusedByItsJailSelfCheckIsRecordedWithWhatFailed) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: the job's network namespace";
    executor::testing::JaillessExecutor weakened;
    res_.job_defaults.executor = &weakened;
    res_.job_defaults.jail_check_program = NIXJAIL_JAIL_CHECK_PROGRAM;
    auto t = task(13, "on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: echo step-ran\n");
    auto r = run(t);
    EXPECT_EQ(r.result, Result::Failure);
    const auto log = allLog(*forge_.task(13));
    EXPECT_EQ(log.find("step-ran"), std::string::npos) << log;
    EXPECT_NE(log.find("Jail self-check: seccomp: mode 0, not filter mode"), std::string::npos) << log;
    auto jobs = store_->recentJobs(10);
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].status, "failure");
    EXPECT_NE(jobs[0].exit_reason.find("the jail's self-check failed, so no step ran"), std::string::npos)
        << jobs[0].exit_reason;
    EXPECT_TRUE(store_->steps(jobs[0].id).empty());
    const auto checks = store_->jailChecks(jobs[0].id);
    ASSERT_EQ(checks.size(), 6u);
    EXPECT_EQ(checks[0].name, "capabilities");
    EXPECT_FALSE(checks[0].passed);
    EXPECT_EQ(checks[2].name, "seccomp");
    EXPECT_EQ(checks[2].detail, "mode 0, not filter mode (2): no system call is refused");
    EXPECT_EQ(checks[5].name, "cgroup");
}

// The check as the first step's prelude (the namespace jail's way): that step is recorded as failed
// with the reason, its command never ran, and the job's record says why.
TEST_F(TaskRunnerTest, AJobRefusedInItsFirstStepsPreludeIsRecordedWithWhatFailed) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: the job's network namespace";
    executor::testing::JaillessExecutor weakened(/*preludes=*/true);
    res_.job_defaults.executor = &weakened;
    res_.job_defaults.jail_check_program = NIXJAIL_JAIL_CHECK_PROGRAM;
    auto t = task(14, "on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: echo step-ran\n"
                      "      - if: always()\n        run: echo always-ran\n");
    auto r = run(t);
    EXPECT_EQ(r.result, Result::Failure);
    const auto log = allLog(*forge_.task(14));
    EXPECT_EQ(log.find("step-ran"), std::string::npos) << log;
    EXPECT_EQ(log.find("always-ran"), std::string::npos) << "no later step runs either: " << log;
    EXPECT_NE(log.find("Jail self-check: seccomp: mode 0, not filter mode"), std::string::npos) << log;
    auto jobs = store_->recentJobs(10);
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].status, "failure");
    EXPECT_NE(jobs[0].exit_reason.find("the jail's self-check failed, so no step ran"), std::string::npos)
        << jobs[0].exit_reason;
    const auto steps = store_->steps(jobs[0].id);
    ASSERT_EQ(steps.size(), 1u);
    EXPECT_EQ(steps[0].status, "failure");
    const auto checks = store_->jailChecks(jobs[0].id);
    ASSERT_EQ(checks.size(), 6u);
    EXPECT_FALSE(checks[2].passed);
}

// proxy.repository_policy: the task repository's .nixjail-network.yaml is read at the task's
// commit, through the checkout cache; an invalid one fails the task before any step, with the
// file's problem in the log, and a commit without one runs as before.
TEST_F(TaskRunnerTest, TheRepositorysNetworkFileIsReadAtTheTasksCommitWhenTheAdminAllowsIt) {
    config_.proxy.repository_policy = true;
    cache::testing::GitTestRepo remote(dir_.path() / "forge" / "acme" / "app");
    engine::CachedCheckouts checkouts(dir_.path() / "cache");
    res_.job_defaults.checkout_provider = checkouts.asProvider();
    res_.job_defaults.work_dir = dir_.path() / "work";
    std::filesystem::create_directories(res_.job_defaults.work_dir);
    const std::string bad = remote.commit({{".nixjail-network.yaml", "secret_hosts: {DEPLOY_KEY: evil.test}\n"}}, "1");
    const std::string none = remote.commit({{".nixjail-network.yaml", ""}}, "2");
    const std::string yaml = "on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: echo step-ran\n";
    auto at = [&](forge::Task t, const std::string& sha) {
        t.context["server_url"] = "file://" + (dir_.path() / "forge").string();
        t.context["sha"] = sha;
        return t;
    };
    EXPECT_EQ(run(at(task(21, yaml), bad)).result, Result::Failure);
    const auto log = allLog(*forge_.task(21));
    EXPECT_EQ(log.find("step-ran"), std::string::npos) << log;
    EXPECT_NE(log.find(".nixjail-network.yaml:1:28: secret 'DEPLOY_KEY' needs a list of hosts"), std::string::npos)
        << log;
    EXPECT_EQ(run(at(task(22, yaml), none)).result, Result::Success);
    EXPECT_NE(allLog(*forge_.task(22)).find("step-ran"), std::string::npos);
    EXPECT_TRUE(std::filesystem::is_empty(res_.job_defaults.work_dir)) << "the fetched file is gone";
}

TEST_F(TaskRunnerTest, FailingStepFailsTheTaskWithTheReasonRecorded) {
    auto t = task(12,
                  "on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: exit 3\n      "
                  "- run: echo no\n");
    auto r = run(t);
    EXPECT_EQ(r.result, Result::Failure);
    const auto rec = forge_.task(12);
    const auto& last = rec->states.back();
    EXPECT_EQ(last.result, Result::Failure);
    EXPECT_EQ(last.steps[0].result, Result::Failure);
    EXPECT_EQ(last.steps[1].result, Result::Skipped);
    auto jobs = store_->recentJobs(10, true);
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_NE(jobs[0].exit_reason.find("exit code 3"), std::string::npos) << jobs[0].exit_reason;
}

TEST_F(TaskRunnerTest, MalformedPayloadFailsWithTheParseError) {
    auto t = task(13, "jobs:\n  build:\n    runs-on: nix\n    steps: [\n");
    auto r = run(t);
    EXPECT_EQ(r.result, Result::Failure);
    EXPECT_TRUE(r.reported);
    auto rec = forge_.task(13);
    EXPECT_EQ(rec->states.back().result, Result::Failure);
    EXPECT_NE(allLog(*rec).find("invalid YAML"), std::string::npos) << allLog(*rec);
    auto jobs = store_->recentJobs(10);
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].status, "failure");
    EXPECT_NE(jobs[0].exit_reason.find("invalid"), std::string::npos);
}

// A payload GitHub would refuse ("invalid workflow file") fails the task before any step runs.
TEST_F(TaskRunnerTest, InvalidWorkflowFailsTheTaskBeforeAnyStep) {
    auto t = task(15, "on: push\njobs:\n  build:\n    runs-on: nix\n    steps:\n"
                      "      - run: echo marker-$((6 * 7))\n"
                      "      - if: secrets.T != ''\n        run: echo second\n");
    auto r = run(t);
    EXPECT_EQ(r.result, Result::Failure);
    auto rec = forge_.task(15);
    EXPECT_EQ(rec->states.back().result, Result::Failure);
    const std::string log = allLog(*rec);
    EXPECT_NE(log.find("task 15 workflow:7:13: context 'secrets' is not available in "
                       "jobs.<job_id>.steps.if"),
              std::string::npos)
        << log;
    EXPECT_EQ(log.find("marker-42"), std::string::npos) << log;
}

TEST_F(TaskRunnerTest, ForgeCancellationStopsTheJobWithinTwoSeconds) {
    const auto fifo = dir_.path() / "started";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto t =
        task(14, "on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: echo up > " +
                     fifo.string() + "; sleep 60\n      - run: echo after\n");
    std::optional<TaskResult> r;
    std::chrono::steady_clock::time_point cancelled;
    std::thread job([&] { r = run(t); });
    {
        // The step writes once the job runs; at most 60 s, so a job that never starts fails the
        // test instead of hanging it (the cancel below then ends the job thread).
        base::UniqueFd fd(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
        pollfd p{fd.get(), POLLIN, 0};
        EXPECT_TRUE(fd && ::poll(&p, 1, 60000) > 0) << "the job did not start within 60 s";
    }
    forge_.cancel(14);
    cancelled = std::chrono::steady_clock::now();
    job.join();
    EXPECT_LT(std::chrono::steady_clock::now() - cancelled, std::chrono::seconds(2));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result, Result::Cancelled);
    auto jobs = store_->recentJobs(10);
    EXPECT_EQ(jobs[0].status, "cancelled");
    EXPECT_EQ(jobs[0].exit_reason, "cancelled on the forge");
}

TEST_F(TaskRunnerTest, RunnerShutdownCancelsAndReportsCancelled) {
    std::stop_source shutdown;
    shutdown.request_stop();
    auto t =
        task(15, "on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: sleep 60\n");
    auto r = run(t, shutdown.get_token());
    EXPECT_EQ(r.result, Result::Cancelled);
    EXPECT_EQ(forge_.task(15)->states.back().result, Result::Cancelled);
}

TEST_F(TaskRunnerTest, FinalReportIsRetriedThroughAnOutage) {
    auto t =
        task(16, "on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: echo ok\n");
    // The job itself is quick; make the forge fail the next several calls.
    for (int i = 0; i < 4; ++i)
        forge_.failNextCall(forge::ForgeError("forge down", "unavailable", 503));
    auto r = run(t);
    EXPECT_EQ(r.result, Result::Success);
    EXPECT_TRUE(r.reported);
    EXPECT_EQ(forge_.task(16)->states.back().result, Result::Success);
    EXPECT_TRUE(forge_.task(16)->sealed);
}

TEST_F(TaskRunnerTest, GivingUpLeavesTheRecordInTheDatabase) {
    auto t =
        task(17, "on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: echo ok\n");
    for (int i = 0; i < 1000; ++i)
        forge_.failNextCall(forge::ForgeError("forge down", "unavailable", 503));
    give_up_.request_stop();
    auto r = run(t);
    EXPECT_FALSE(r.reported);
    auto jobs = store_->recentJobs(10);
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].status, "success");
}

TEST_F(TaskRunnerTest, RunnerJobTimeoutStopsAndFailsTheJob) {
    config_.runner.job_timeout = std::chrono::milliseconds(300);
    auto t =
        task(18, "on: push\njobs:\n  t:\n    runs-on: nix\n    steps:\n      - run: sleep 60\n");
    const auto start = std::chrono::steady_clock::now();
    auto r = run(t);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    EXPECT_EQ(r.result, Result::Failure);
    EXPECT_EQ(forge_.task(18)->states.back().result, Result::Failure);
    const auto job = store_->recentJobs(1)[0];
    EXPECT_EQ(job.exit_reason, "the job exceeded runner.job_timeout and was stopped");
    // The step it stopped is recorded as timed out (jobs --json: timed_out), not as cancelled.
    const auto steps = store_->steps(job.id);
    ASSERT_EQ(steps.size(), 1u);
    EXPECT_TRUE(steps[0].timed_out);
    EXPECT_EQ(steps[0].status, "failure");
}

TEST_F(TaskRunnerTest, NeedsOfOtherJobsComeFromTheTask) {
    forge::Task t;
    t.id = 19;
    t.workflow_payload =
        "on: push\njobs:\n  deploy:\n    runs-on: nix\n    needs: [build, test]\n    steps:\n"
        "      - run: echo \"v=${{ needs.build.outputs.version }} r=${{ needs.build.result }} "
        "t=${{ needs.test.result }}\"\n";
    t.needs["build"] = {{{"version", "4.5.6"}}, Result::Success};
    t.needs["test"] = {{}, Result::Failure};
    forge_.enqueueTask(t);
    auto r = run(*forge_.fetchTask(0).task);
    EXPECT_EQ(r.result, Result::Success) << allLog(*forge_.task(19));
    EXPECT_NE(allLog(*forge_.task(19)).find("v=4.5.6 r=success t=failure"), std::string::npos)
        << allLog(*forge_.task(19));
}

TEST_F(TaskRunnerTest, AMatrixCombinationFromTheForgeRunsAsOneJob) {
    // The forge reduces the matrix to the task's combination, scalars as one-element lists.
    auto t = task(20,
                  "on: push\njobs:\n  build:\n    name: build (linux, 3)\n    runs-on: nix\n"
                  "    strategy:\n      matrix:\n        os: [linux]\n        n: [3]\n"
                  "    steps:\n      - run: echo \"os=${{ matrix.os }} n=${{ matrix.n }}\"\n");
    auto r = run(t);
    EXPECT_EQ(r.result, Result::Success);
    EXPECT_NE(allLog(*forge_.task(20)).find("os=linux n=3"), std::string::npos)
        << allLog(*forge_.task(20));
    auto jobs = store_->recentJobs(1);
    EXPECT_EQ(nlohmann::json::parse(jobs[0].start.matrix),
              (nlohmann::json{{"os", "linux"}, {"n", 3}}));
}

TEST_F(TaskRunnerTest, AReusableWorkflowsChildJobFromTheForgeGetsTheCallersTypedInputs) {
    // Recent Gitea and Forgejo expand a call on the server: the child job arrives as an ordinary
    // job with event_name workflow_call, the called file's `on`, and the caller's inputs in
    // event.inputs (shared/spec/forge-protocol.md 3.5, 3.6).
    forge::Task t;
    t.id = 21;
    t.workflow_payload =
        "on:\n  workflow_call:\n    inputs:\n      fast: {type: boolean}\n      n: {type: number}\n"
        "jobs:\n  child:\n    runs-on: nix\n    steps:\n"
        "      - run: echo \"fast=${{ inputs.fast == false }} n=${{ inputs.n == 2 }} "
        "event=${{ github.event_name }} text=${{ github.event.inputs.fast }}\"\n";
    t.context = {{"repository", "acme/app"},
                 {"workflow", "ci.yml"},
                 {"event_name", "workflow_call"},
                 {"event", {{"inputs", {{"fast", "false"}, {"n", "2"}}}}}};
    forge_.enqueueTask(t);
    auto r = run(*forge_.fetchTask(0).task);
    EXPECT_EQ(r.result, Result::Success) << allLog(*forge_.task(21));
    EXPECT_NE(allLog(*forge_.task(21)).find("fast=true n=true event=workflow_call text=false"),
              std::string::npos)
        << allLog(*forge_.task(21));
}

TEST(StepNesting, CompositeStepsBelongToTheirParentAndSkippedStepsCount) {
    StepNesting n;
    EXPECT_EQ(n.started(), 0);  // step 0
    EXPECT_EQ(n.finished(), 0);
    EXPECT_EQ(n.finished(), 1);  // step 1 skipped
    EXPECT_EQ(n.started(), 2);   // step 2: a composite action
    EXPECT_EQ(n.started(), std::nullopt);
    EXPECT_EQ(n.finished(), std::nullopt);
    EXPECT_EQ(n.started(), std::nullopt);
    EXPECT_EQ(n.finished(), std::nullopt);
    EXPECT_EQ(n.finished(), 2);
    EXPECT_EQ(n.started(), 3);
}

}  // namespace
}  // namespace nixjail::runner::daemon

namespace nixjail::runner::daemon {
namespace {

TEST(JobRecorder, NetworkDecisionsGoToTheDatabaseAndTheMetrics) {
    base::TempDir dir;
    store::JobStore db(dir.path() / "jobs.sqlite");
    Metrics metrics;
    JobRecorder recorder(
        db, metrics,
        std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>()));
    ASSERT_TRUE(recorder.start({.forge_task_id = 3, .job = "net", .started_at_ms = 1}));
    proxy::AuditRecord allowed{.method = "GET",
                               .host = "registry.npmjs.org",
                               .path = "/left-pad",
                               .decision = proxy::PolicyDecision::kAllow,
                               .rule = "admin rule 1",
                               .bytes_down = 100,
                               .credentials = {"npm"}};
    proxy::AuditRecord denied{
        .method = "CONNECT", .host = "evil.example", .decision = proxy::PolicyDecision::kDeny};
    recorder.networkDecision(allowed);
    recorder.networkDecision(denied);
    recorder.finish("success", "");
    auto jobs = db.recentJobs(1);
    auto decisions = db.networkDecisions(jobs[0].id);
    ASSERT_EQ(decisions.size(), 2u);
    EXPECT_EQ(decisions[0].decision, "allow");
    EXPECT_EQ(decisions[0].credential_name, "npm");
    EXPECT_EQ(decisions[0].bytes, 100);
    EXPECT_EQ(decisions[1].decision, "deny");
    const auto text = metrics.render();
    EXPECT_NE(text.find("nixjail_proxy_decisions_total{decision=\"deny\"} 1\n"), std::string::npos)
        << text;
}

}  // namespace
}  // namespace nixjail::runner::daemon
