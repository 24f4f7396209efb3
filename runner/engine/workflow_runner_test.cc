// Runs real workflows through the engine with the host executor and checks results and logs.
#include "runner/engine/workflow_runner.h"

#include <gtest/gtest.h>

#include <mutex>

#include "executor/host/host_executor.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/workflow/workflow_loader.h"

namespace nixjail::runner::engine {

using Json = nlohmann::json;
namespace {

namespace fs = std::filesystem;

struct Capture : RunReporter {
    std::mutex mu;
    std::map<std::string, std::string> logs;  // display name -> all lines
    struct Obs : JobObserver {
        Capture* c;
        std::string name;
        void stepStarted(const StepRecord& s) override { add("> " + s.name); }
        void line(const LogLine& l) override { add(l.text); }
        void stepFinished(const StepRecord& s) override { add(std::string("< ") + resultName(s.conclusion)); }
        void add(const std::string& t) {
            std::lock_guard lock(c->mu);
            c->logs[name] += t + "\n";
        }
    };
    std::unique_ptr<JobObserver> jobStarted(const JobInstance& i) override {
        auto o = std::make_unique<Obs>();
        o->c = this;
        o->name = i.display_name;
        return o;
    }
    void jobFinished(const JobInstance&, const JobOutcome&) override {}
    std::string all() {
        std::string s;
        for (auto& [k, v] : logs) s += v;
        return s;
    }
};

class WorkflowRunnerTest : public ::testing::Test {
protected:
    WorkflowReport run(const std::string& yaml, std::vector<std::string> jobs = {}) {
        auto wf = workflow::parseWorkflow(yaml, "test.yml");
        EXPECT_TRUE(wf) << (wf ? "" : workflow::formatAll(wf.error()));
        if (!wf) return {};
        wf_ = *wf;
        opts.executor = &host;
        opts.repo_dir = repo.path();
        opts.work_dir = work.path();
        opts.github = {{"repository", "me/repo"}, {"sha", "abc"}};
        for (const auto& [k, v] : opts.secrets) masker.add(v);
        return runWorkflow(wf_, jobs, opts, capture, masker, {});
    }
    const JobReport& job(const WorkflowReport& r, const std::string& name) {
        for (const auto& j : r.jobs) {
            if (j.name == name) return j;
        }
        throw std::runtime_error("no job " + name);
    }

    executor::HostExecutor host;
    base::TempDir repo{"nixjail-repo-"};
    base::TempDir work{"nixjail-work-"};
    RunOptions opts;
    SecretMasker masker;
    Capture capture;
    workflow::Workflow wf_;
};

TEST_F(WorkflowRunnerTest, EnvPrecedenceAndGithubEnv) {
    auto r = run(R"Y(
on: push
env: {A: wf, B: wf, C: wf}
jobs:
  j:
    runs-on: x
    env: {B: job, C: job}
    steps:
      - run: echo "D=from-file" >> "$GITHUB_ENV"; echo "C=file" >> "$GITHUB_ENV"
      - run: echo "$A $B $C $D $E"
        env: {E: step}
      - run: echo "$C"
        env: {C: step-wins}
)Y");
    EXPECT_EQ(r.result, Result::kSuccess);
    EXPECT_NE(capture.all().find("wf job file from-file step\n"), std::string::npos) << capture.all();
    EXPECT_NE(capture.all().find("step-wins\n"), std::string::npos);
}

TEST_F(WorkflowRunnerTest, SetEnvFailsTheStepUnlessUnsecureCommandsAreAllowed) {
    auto r = run(R"Y(
on: push
jobs:
  off:
    runs-on: x
    steps:
      - id: s
        run: echo "::set-env name=A::1"
      - if: always()
        run: echo "outcome=${{ steps.s.outcome }} A=$A"
  on:
    runs-on: x
    steps:
      - run: |
          echo "::set-env name=A::1"
          echo "::add-path::/opt/legacy"
        env: {ACTIONS_ALLOW_UNSECURE_COMMANDS: true}
      - run: echo "A=$A PATH=$PATH"
)Y");
    EXPECT_EQ(job(r, "off").outcome.result, Result::kFailure);
    EXPECT_NE(capture.logs["off"].find("The `set-env` command is disabled."), std::string::npos)
        << capture.logs["off"];
    EXPECT_NE(capture.logs["off"].find("outcome=failure A=\n"), std::string::npos);
    EXPECT_EQ(job(r, "on").outcome.result, Result::kSuccess) << capture.logs["on"];
    EXPECT_NE(capture.logs["on"].find("A=1 PATH=/opt/legacy:"), std::string::npos) << capture.logs["on"];
}

TEST_F(WorkflowRunnerTest, StepOutputsJobOutputsAndNeeds) {
    auto r = run(R"Y(
on: push
jobs:
  a:
    runs-on: x
    outputs: {v: "${{ steps.s.outputs.val }}", multi: "${{ steps.s.outputs.m }}"}
    steps:
      - id: s
        run: |
          echo "val=42" >> "$GITHUB_OUTPUT"
          { echo "m<<EOF"; echo "l1"; echo "l2"; echo "EOF"; } >> "$GITHUB_OUTPUT"
  b:
    needs: a
    runs-on: x
    steps:
      - run: echo "got ${{ needs.a.outputs.v }} ${{ needs.a.result }}"
      - run: echo "${{ toJSON(needs.a.outputs.multi) }}"
)Y");
    EXPECT_EQ(r.result, Result::kSuccess);
    EXPECT_EQ(job(r, "a").outcome.outputs.at("v"), "42");
    EXPECT_EQ(job(r, "a").outcome.outputs.at("multi"), "l1\nl2");
    EXPECT_NE(capture.logs["b"].find("got 42 success"), std::string::npos) << capture.logs["b"];
    // needs run in order: a finished before b started.
    EXPECT_EQ(r.jobs[0].job_id, "a");
}

TEST_F(WorkflowRunnerTest, FailureSkipsLaterStepsUnlessTheyAskForIt) {
    auto r = run(R"Y(
on: push
jobs:
  j:
    runs-on: x
    steps:
      - id: bad
        run: exit 3
      - run: echo should-not-run
      - if: failure()
        run: echo "on-failure ${{ steps.bad.outcome }} ${{ job.status }}"
      - if: always()
        run: echo always-ran
      - if: success()
        run: echo not-on-success
)Y");
    EXPECT_EQ(r.result, Result::kFailure);
    const auto& out = capture.logs["j"];
    EXPECT_EQ(out.find("should-not-run\n"), std::string::npos);
    EXPECT_NE(out.find("on-failure failure failure"), std::string::npos) << out;
    EXPECT_NE(out.find("always-ran"), std::string::npos);
    EXPECT_EQ(out.find("not-on-success\n"), std::string::npos);
    EXPECT_NE(out.find("Process completed with exit code 3."), std::string::npos);
    const auto& steps = job(r, "j").outcome.steps;
    ASSERT_EQ(steps.size(), 5u);
    EXPECT_EQ(steps[1].conclusion, Result::kSkipped);
}

TEST_F(WorkflowRunnerTest, ContinueOnErrorKeepsOutcomeAndSetsConclusion) {
    auto r = run(R"Y(
on: push
jobs:
  j:
    runs-on: x
    steps:
      - id: f
        continue-on-error: true
        run: exit 1
      - run: echo "${{ steps.f.outcome }}/${{ steps.f.conclusion }}"
)Y");
    EXPECT_EQ(r.result, Result::kSuccess);
    EXPECT_NE(capture.logs["j"].find("failure/success"), std::string::npos) << capture.logs["j"];
}

TEST_F(WorkflowRunnerTest, MatrixInstancesGetTheirValues) {
    auto r = run(R"Y(
on: push
jobs:
  m:
    runs-on: x
    strategy:
      matrix:
        os: [linux, mac]
        n: [1, 2]
        exclude: [{os: mac, n: 2}]
    steps:
      - run: echo "os=${{ matrix.os }} n=${{ matrix.n }} of ${{ strategy.job-total }}"
)Y");
    EXPECT_EQ(r.result, Result::kSuccess);
    ASSERT_EQ(r.jobs.size(), 3u);
    EXPECT_NE(capture.logs["m (linux, 2)"].find("os=linux n=2 of 3"), std::string::npos);
    EXPECT_NE(capture.logs["m (mac, 1)"].find("os=mac n=1 of 3"), std::string::npos);
}

TEST_F(WorkflowRunnerTest, MatrixKeysInsertAndSequenceExpressionsAreEvaluatedAsOnGitHub) {
    auto r = run(R"Y(
on: push
jobs:
  j:
    runs-on: x
    strategy:
      matrix:
        ${{ insert }}: ${{ fromJSON('{"os":["a","b"]}') }}
        "${{ format('{0}', 'ver') }}": [1, "${{ fromJSON('[2,3]') }}"]
    steps:
      - run: echo "combo ${{ matrix.os }}-${{ matrix.ver }}"
)Y");
    EXPECT_EQ(r.result, Result::kSuccess) << capture.all();
    EXPECT_EQ(r.jobs.size(), 6u) << capture.all();
    for (const char* combo : {"a-1", "a-2", "a-3", "b-1", "b-2", "b-3"}) {
        EXPECT_NE(capture.all().find(std::string("combo ") + combo + "\n"), std::string::npos)
            << combo << "\n" << capture.all();
    }
}

TEST_F(WorkflowRunnerTest, InsertNeedsAMappingAndSaysSo) {
    auto r = run(R"Y(
on: push
jobs:
  j:
    runs-on: x
    strategy:
      matrix:
        ${{ insert }}: ${{ fromJSON('[1]') }}
    steps:
      - run: echo never
)Y");
    EXPECT_EQ(r.result, Result::kFailure);
    ASSERT_EQ(r.jobs.size(), 1u);
    EXPECT_NE(r.jobs[0].outcome.error.find("${{ insert }} needs a mapping as its value, got array"),
              std::string::npos)
        << r.jobs[0].outcome.error;
    EXPECT_EQ(capture.all().find("never\n"), std::string::npos) << capture.all();
}

TEST_F(WorkflowRunnerTest, RepeatedMatrixFilterKeysMeanAnyOfTheirValues) {
    opts.matrix_filter = {{"os", "a"}, {"os", "c"}, {"n", "1"}};
    auto r = run(R"Y(
on: push
jobs:
  j:
    runs-on: x
    strategy:
      matrix:
        os: [a, b, c]
        n: [1, 2]
    steps:
      - run: echo "combo ${{ matrix.os }}-${{ matrix.n }}"
)Y");
    EXPECT_EQ(r.result, Result::kSuccess) << capture.all();
    EXPECT_EQ(r.jobs.size(), 2u) << capture.all();
    EXPECT_NE(capture.all().find("combo a-1\n"), std::string::npos) << capture.all();
    EXPECT_NE(capture.all().find("combo c-1\n"), std::string::npos) << capture.all();
}

TEST_F(WorkflowRunnerTest, AConcurrencyGroupRunsItsJobsOneAtATime) {
    const auto order = work.path() / "order";
    const std::string o = order.string();
    auto r = run(R"Y(
on: push
jobs:
  a:
    runs-on: x
    concurrency: deploy-${{ github.repository }}
    steps:
      - run: echo start-a >> )Y" + o + R"Y(; sleep 0.5; echo end-a >> )Y" + o + R"Y(
  b:
    runs-on: x
    concurrency:
      group: deploy-me/repo
    steps:
      - run: echo start-b >> )Y" + o + R"Y(; sleep 0.5; echo end-b >> )Y" + o + R"Y(
)Y");
    EXPECT_EQ(r.result, Result::kSuccess) << capture.all();
    const auto text = base::readFile(order);
    EXPECT_TRUE(text == "start-a\nend-a\nstart-b\nend-b\n" || text == "start-b\nend-b\nstart-a\nend-a\n")
        << text;
}

TEST_F(WorkflowRunnerTest, ANewerWaitingInstanceCancelsTheOlderOneAsOnGitHub) {
    auto r = run(R"Y(
on: push
jobs:
  m:
    runs-on: x
    strategy:
      matrix:
        n: [1, 2, 3]
    concurrency: one-at-a-time
    steps:
      - run: echo "ran ${{ matrix.n }}"; sleep 0.3
)Y");
    ASSERT_EQ(r.jobs.size(), 3u) << capture.all();
    std::map<std::string, const JobReport*> by;
    for (const auto& j : r.jobs) by[j.matrix["n"].dump()] = &j;
    EXPECT_EQ(by["1"]->outcome.result, Result::kSuccess);
    EXPECT_EQ(by["2"]->outcome.result, Result::kCancelled);
    EXPECT_EQ(by["2"]->outcome.error,
              "Canceling since a higher priority waiting request for 'one-at-a-time' exists");
    EXPECT_EQ(by["3"]->outcome.result, Result::kSuccess);
    EXPECT_EQ(capture.all().find("ran 2\n"), std::string::npos) << capture.all();
    EXPECT_EQ(r.result, Result::kCancelled);
}

TEST_F(WorkflowRunnerTest, CancelInProgressStopsTheRunningJobOfTheGroup) {
    const auto start = std::chrono::steady_clock::now();
    auto r = run(R"Y(
on: push
jobs:
  slow:
    runs-on: x
    concurrency: g
    steps:
      - run: echo slow-started; sleep 30; echo "slow-$((6 * 7))"
  fast:
    runs-on: x
    concurrency:
      group: g
      cancel-in-progress: ${{ github.event_name == 'push' }}
    steps:
      - run: echo "fast-$((6 * 7))"
)Y");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
    EXPECT_EQ(job(r, "slow").outcome.result, Result::kCancelled) << capture.all();
    EXPECT_EQ(job(r, "slow").outcome.error,
              "Canceling since a higher priority waiting request for 'g' exists");
    EXPECT_EQ(job(r, "fast").outcome.result, Result::kSuccess) << capture.all();
    // The markers are computed by the shell, so a step's name (its script) never holds them.
    EXPECT_EQ(capture.all().find("slow-42"), std::string::npos) << capture.all();
    EXPECT_NE(capture.all().find("fast-42\n"), std::string::npos) << capture.all();
}

TEST_F(WorkflowRunnerTest, ABadConcurrencyExpressionFailsTheJobWithoutRunningIt) {
    auto r = run(R"Y(
on: push
jobs:
  j:
    runs-on: x
    concurrency: ${{ fromJSON('not json') }}
    steps:
      - run: echo never
)Y");
    EXPECT_EQ(r.result, Result::kFailure);
    ASSERT_EQ(r.jobs.size(), 1u);
    EXPECT_NE(r.jobs[0].outcome.error.find("in concurrency of job 'j'"), std::string::npos)
        << r.jobs[0].outcome.error;
    EXPECT_EQ(capture.all().find("never\n"), std::string::npos) << capture.all();
}

class ReusableWorkflowTest : public WorkflowRunnerTest {
  protected:
    void called(const std::string& name, const std::string& yaml) {
        fs::create_directories(repo.path() / ".github/workflows");
        base::writeFile(repo.path() / ".github/workflows" / name, yaml);
    }
};

const char* kCalled = R"Y(
on:
  workflow_call:
    inputs:
      flag: {type: boolean, required: true}
      who: {type: string, default: "world-${{ github.repository }}"}
    secrets:
      token: {required: true}
    outputs:
      greeting:
        value: ${{ jobs.greet.outputs.text }}
jobs:
  greet:
    runs-on: x
    outputs:
      text: ${{ steps.s.outputs.text }}
    steps:
      - id: s
        run: |
          echo "flag=${{ inputs.flag }} typed=${{ inputs.flag == true }} who=${{ inputs.who }} token=${{ secrets.token }} event=${{ github.event_name }}"
          echo "text=hello ${{ inputs.who }}" >> "$GITHUB_OUTPUT"
)Y";

TEST_F(ReusableWorkflowTest, ALocalCallRunsTheCalledJobsWithInputsSecretsAndOutputs) {
    called("called.yml", kCalled);
    opts.secrets = {{"DEPLOY", "s3cr3t-value"}};
    auto r = run(R"Y(
on: push
jobs:
  call:
    uses: ./.github/workflows/called.yml
    with:
      flag: ${{ github.event_name == 'push' }}
    secrets:
      token: ${{ secrets.DEPLOY }}
  after:
    needs: call
    runs-on: x
    steps:
      - run: echo "got ${{ needs.call.outputs.greeting }} result=${{ needs.call.result }}"
)Y");
    EXPECT_EQ(r.result, Result::kSuccess) << capture.all();
    const auto& log = capture.logs["call / greet"];
    EXPECT_NE(log.find("flag=true typed=true who=world-me/repo token=*** event=push"), std::string::npos)
        << capture.all();
    EXPECT_NE(capture.logs["after"].find("got hello world-me/repo result=success"), std::string::npos)
        << capture.all();
    bool listed = false;
    for (const auto& j : r.jobs) listed = listed || j.name == "call / greet";
    EXPECT_TRUE(listed);
}

TEST_F(ReusableWorkflowTest, InheritedSecretsAMatrixCallAndAFailingCallee) {
    called("called.yml", kCalled);
    called("fails.yml", R"Y(
on: workflow_call
jobs:
  boom:
    runs-on: x
    steps:
      - run: exit 3
)Y");
    opts.secrets = {{"token", "inherited-value"}};
    auto r = run(R"Y(
on: push
jobs:
  call:
    strategy:
      matrix:
        who: [a, b]
    uses: ./.github/workflows/called.yml
    with:
      flag: false
      who: ${{ matrix.who }}
    secrets: inherit
  broken:
    uses: ./.github/workflows/fails.yml
  downstream:
    needs: broken
    runs-on: x
    steps:
      - run: echo never
)Y");
    EXPECT_EQ(r.result, Result::kFailure) << capture.all();
    EXPECT_NE(capture.logs["call (a) / greet"].find("flag=false typed=false who=a token=***"), std::string::npos)
        << capture.all();
    EXPECT_NE(capture.logs["call (b) / greet"].find("who=b"), std::string::npos) << capture.all();
    EXPECT_NE(capture.logs["broken / boom"].find("exit code 3"), std::string::npos) << capture.all();
    EXPECT_EQ(job(r, "downstream").outcome.result, Result::kSkipped);
}

TEST_F(ReusableWorkflowTest, ACallThatCannotStartFailsTheCallingJobWithTheReason) {
    called("called.yml", kCalled);
    called("plain.yml", "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: echo hi\n");
    called("self.yml", R"Y(
on: workflow_call
jobs:
  again:
    uses: ./.github/workflows/self.yml
)Y");
    opts.secrets = {{"token", "a-token-value"}};
    auto r = run(R"Y(
on: push
jobs:
  missing-input:
    uses: ./.github/workflows/called.yml
    secrets: inherit
  unknown-input:
    uses: ./.github/workflows/called.yml
    with: {flag: true, colour: red}
    secrets: inherit
  missing-secret:
    uses: ./.github/workflows/called.yml
    with: {flag: true}
  not-callable:
    uses: ./.github/workflows/plain.yml
  no-file:
    uses: ./.github/workflows/nope.yml
  recursive:
    uses: ./.github/workflows/self.yml
)Y");
    EXPECT_EQ(r.result, Result::kFailure);
    auto errorOf = [&](const std::string& name) {
        for (const auto& j : r.jobs) {
            if (j.name == name) return j.outcome.error;
        }
        return std::string("no job ") + name;
    };
    EXPECT_NE(errorOf("missing-input").find("input 'flag' is required by the called workflow"), std::string::npos)
        << errorOf("missing-input");
    EXPECT_NE(errorOf("unknown-input").find("input 'colour' of job 'unknown-input' is not defined"), std::string::npos)
        << errorOf("unknown-input");
    EXPECT_NE(errorOf("missing-secret").find("secret 'token' is required"), std::string::npos)
        << errorOf("missing-secret");
    EXPECT_NE(errorOf("not-callable").find("its 'on' has no workflow_call"), std::string::npos)
        << errorOf("not-callable");
    EXPECT_NE(errorOf("no-file").find("no such file"), std::string::npos) << errorOf("no-file");
    bool tooDeep = false;
    for (const auto& j : r.jobs) tooDeep = tooDeep || j.outcome.error.find("nest at most") != std::string::npos;
    EXPECT_TRUE(tooDeep) << capture.all();
}

TEST_F(ReusableWorkflowTest, ARemoteCallIsFetchedLikeAnAction) {
    base::TempDir origin("nixjail-origin-");
    const auto repoDir = origin.path() / "acme" / "shared";
    fs::create_directories(repoDir / ".github/workflows");
    base::writeFile(repoDir / ".github/workflows/hello.yml", R"Y(
on:
  workflow_call:
    inputs:
      name: {type: string, required: true}
jobs:
  hi:
    runs-on: x
    steps:
      - run: echo "remote hello ${{ inputs.name }}"
)Y");
    const std::string git = "git -C '" + repoDir.string() + "' -c user.name=t -c user.email=t@t ";
    ASSERT_EQ(std::system((git + "init -q && " + git + "add -A && " + git + "commit -qm init && " + git +
                           "tag v1").c_str()),
              0);
    base::TempDir cache("nixjail-actions-");
    opts.default_actions_url = "file://" + origin.path().string();
    opts.action_cache_dir = cache.path();
    auto r = run(R"Y(
on: push
jobs:
  remote:
    uses: acme/shared/.github/workflows/hello.yml@v1
    with:
      name: there
)Y");
    EXPECT_EQ(r.result, Result::kSuccess) << capture.all();
    EXPECT_NE(capture.logs["remote / hi"].find("remote hello there"), std::string::npos) << capture.all();
}

TEST_F(WorkflowRunnerTest, MatrixFromAnotherJobsOutput) {
    auto r = run(R"Y(
on: push
jobs:
  plan:
    runs-on: x
    outputs: {m: "${{ steps.p.outputs.m }}"}
    steps:
      - id: p
        run: echo 'm={"v":["x","y"],"include":[{"v":"x","extra":"e"}]}' >> "$GITHUB_OUTPUT"
  use:
    needs: plan
    runs-on: x
    strategy:
      matrix: ${{ fromJSON(needs.plan.outputs.m) }}
    steps:
      - run: echo "v=${{ matrix.v }} extra=${{ matrix.extra }}"
)Y");
    EXPECT_EQ(r.result, Result::kSuccess) << capture.all();
    // A matrix from an expression has no file order for its keys: names list values sorted by key.
    EXPECT_NE(capture.logs["use (e, x)"].find("v=x extra=e"), std::string::npos) << capture.all();
    EXPECT_NE(capture.logs["use (y)"].find("v=y extra=\n"), std::string::npos) << capture.all();
}

TEST_F(WorkflowRunnerTest, MaxParallelOneRunsInstancesOneAtATime) {
    const auto trace = work.path() / "trace";
    opts.env = {{"TRACE", trace.string()}};
    auto r = run(R"Y(
on: push
jobs:
  m:
    runs-on: x
    strategy:
      max-parallel: 1
      matrix: {n: [1, 2, 3]}
    steps:
      - run: echo "start" >> "$TRACE"; sleep 0.2; echo "end" >> "$TRACE"
)Y");
    EXPECT_EQ(r.result, Result::kSuccess);
    EXPECT_EQ(base::readFile(trace), "start\nend\nstart\nend\nstart\nend\n");
}

TEST_F(WorkflowRunnerTest, FailFastCancelsTheOtherInstances) {
    opts.max_parallel_jobs = 4;
    auto r = run(R"Y(
on: push
jobs:
  m:
    runs-on: x
    strategy:
      matrix: {n: [1, 2]}
    steps:
      - run: if [ "${{ matrix.n }}" = 1 ]; then exit 1; else sleep 30; fi
)Y");
    EXPECT_EQ(r.result, Result::kFailure);
    EXPECT_EQ(job(r, "m (1)").outcome.result, Result::kFailure);
    EXPECT_EQ(job(r, "m (2)").outcome.result, Result::kCancelled);
    EXPECT_LT(r.duration, std::chrono::seconds(20));
}

TEST_F(WorkflowRunnerTest, NeedsFailureSkipsDependentsUnlessAlways) {
    auto r = run(R"Y(
on: push
jobs:
  a: {runs-on: x, steps: [{run: exit 1}]}
  b: {runs-on: x, needs: a, steps: [{run: echo b}]}
  c: {runs-on: x, needs: a, if: "always()", steps: [{run: "echo c sees ${{ needs.a.result }}"}]}
)Y");
    EXPECT_EQ(job(r, "b").outcome.result, Result::kSkipped);
    EXPECT_EQ(job(r, "c").outcome.result, Result::kSuccess);
    EXPECT_NE(capture.logs["c"].find("c sees failure"), std::string::npos);
}

TEST_F(WorkflowRunnerTest, JobStatusLooksAtTheWholeNeedsChain) {
    auto r = run(R"Y(
on: push
jobs:
  a: {runs-on: x, steps: [{run: exit 1}]}
  b: {runs-on: x, needs: a, if: "success() || failure()", steps: [{run: echo b ran}]}
  c: {runs-on: x, needs: b, steps: [{run: echo c ran}]}
  d: {runs-on: x, needs: c, if: "failure()", steps: [{run: echo d sees failure upstream}]}
  e: {runs-on: x, needs: b, if: "always()", steps: [{run: "echo e sees ${{ needs.b.result }}"}]}
  skipped: {runs-on: x, if: "false", steps: [{run: echo never}]}
  over: {runs-on: x, needs: skipped, if: "always()", steps: [{run: echo over ran}]}
  below: {runs-on: x, needs: over, steps: [{run: echo below ran}]}
)Y");
    // b ran through its own status functions and succeeded, yet a failed further up: c is skipped.
    EXPECT_EQ(job(r, "b").outcome.result, Result::kSuccess);
    EXPECT_EQ(job(r, "c").outcome.result, Result::kSkipped);
    EXPECT_EQ(job(r, "c").outcome.error, "job 'a' further up its needs was failure");
    // failure() sees a failed ancestor too; always() runs regardless.
    EXPECT_EQ(job(r, "d").outcome.result, Result::kSuccess);
    EXPECT_NE(capture.logs["d"].find("d sees failure upstream"), std::string::npos);
    EXPECT_NE(capture.logs["e"].find("e sees success"), std::string::npos);
    // A skip upstream skips the jobs below a job that ran through always().
    EXPECT_EQ(job(r, "over").outcome.result, Result::kSuccess);
    EXPECT_EQ(job(r, "below").outcome.result, Result::kSkipped);
}

TEST_F(WorkflowRunnerTest, StepTimeoutKillsAndFails) {
    auto r = run(R"Y(
on: push
jobs:
  j:
    runs-on: x
    steps:
      - run: sleep 30
        timeout-minutes: 0.005
)Y");
    EXPECT_EQ(r.result, Result::kFailure);
    EXPECT_NE(capture.logs["j"].find("exceeded its time limit"), std::string::npos);
    EXPECT_LT(r.duration, std::chrono::seconds(10));
}

TEST_F(WorkflowRunnerTest, SecretsAreMaskedIncludingMultiLineAndOutputs) {
    opts.secrets = {{"TOKEN", "sup3rs3cret"}, {"KEY", "-----BEGIN-----\nAAAABBBB\n-----END-----"}};
    auto r = run(R"Y(
on: push
jobs:
  j:
    runs-on: x
    outputs: {leak: "${{ steps.s.outputs.t }}"}
    steps:
      - id: s
        run: |
          echo "token ${{ secrets.TOKEN }}"
          echo "$KEY"
          printf 'sup3r'; printf 's3cret\n'
          echo "t=${{ secrets.TOKEN }}" >> "$GITHUB_OUTPUT"
        env: {KEY: "${{ secrets.KEY }}"}
)Y");
    EXPECT_EQ(r.result, Result::kSuccess);
    const auto all = capture.all();
    EXPECT_EQ(all.find("sup3rs3cret"), std::string::npos) << all;
    EXPECT_EQ(all.find("AAAABBBB"), std::string::npos) << all;
    EXPECT_NE(all.find("token ***"), std::string::npos) << all;
    EXPECT_EQ(job(r, "j").outcome.outputs.count("leak"), 0u);
}

TEST_F(WorkflowRunnerTest, JobOutputsHoldingASecretAreDroppedWithAWarning) {
    opts.secrets = {{"TOKEN", "sup3rs3cret"}};
    auto r = run(R"Y(
on: push
jobs:
  a:
    runs-on: x
    outputs:
      leak: "prefix-${{ secrets.TOKEN }}"
      masked: "${{ steps.s.outputs.m }}"
      fine: "${{ steps.s.outputs.f }}"
    steps:
      - id: s
        run: |
          echo "::add-mask::hidden-value"
          echo "m=hidden-value" >> "$GITHUB_OUTPUT"
          echo "f=plain" >> "$GITHUB_OUTPUT"
  b:
    needs: a
    runs-on: x
    steps:
      - run: echo "leak=[${{ needs.a.outputs.leak }}] masked=[${{ needs.a.outputs.masked }}] fine=[${{ needs.a.outputs.fine }}]"
)Y");
    EXPECT_EQ(r.result, Result::kSuccess);
    const auto& outputs = job(r, "a").outcome.outputs;
    EXPECT_EQ(outputs.count("leak"), 0u);
    EXPECT_EQ(outputs.count("masked"), 0u);
    EXPECT_EQ(outputs.at("fine"), "plain");
    EXPECT_NE(capture.logs["a"].find("Skip output 'leak' since it may contain secret."), std::string::npos)
        << capture.logs["a"];
    EXPECT_NE(capture.logs["a"].find("Skip output 'masked' since it may contain secret."), std::string::npos);
    EXPECT_NE(capture.logs["b"].find("leak=[] masked=[] fine=[plain]"), std::string::npos) << capture.logs["b"];
}

// Syntax errors are refused when the file loads; what only fails on evaluation fails the step.
TEST_F(WorkflowRunnerTest, ExpressionErrorFailsTheStepWithPosition) {
    auto r = run(R"Y(
on: push
jobs:
  j:
    runs-on: x
    steps:
      - run: echo ${{ fromJSON('not json') }}
)Y");
    EXPECT_EQ(r.result, Result::kFailure);
    EXPECT_NE(capture.logs["j"].find("fromJSON('not json')"), std::string::npos) << capture.logs["j"];
    EXPECT_NE(capture.logs["j"].find("^"), std::string::npos) << capture.logs["j"];
}

TEST_F(WorkflowRunnerTest, CheckoutProvidesTheWorkingTreeAndLocalCompositeActionRuns) {
    fs::create_directories(repo.path() / "act");
    base::writeFile(repo.path() / "act/action.yml", R"Y(
name: greet
inputs:
  who: {default: world}
outputs:
  greeting: {value: "${{ steps.g.outputs.text }}"}
runs:
  using: composite
  steps:
    - id: g
      shell: bash
      run: echo "text=hello ${{ inputs.who }}" >> "$GITHUB_OUTPUT"
    - shell: bash
      run: echo "in composite $GREETER_ENV"
      env: {GREETER_ENV: yes}
)Y");
    base::writeFile(repo.path() / "data.txt", "payload");
    auto r = run(R"Y(
on: push
jobs:
  j:
    runs-on: x
    steps:
      - uses: actions/checkout@v4
      - run: cat data.txt
      - id: greet
        uses: ./act
        with: {who: tests}
      - run: echo "${{ steps.greet.outputs.greeting }}"
)Y");
    EXPECT_EQ(r.result, Result::kSuccess) << capture.all();
    const auto& out = capture.logs["j"];
    EXPECT_NE(out.find("payload"), std::string::npos);
    EXPECT_NE(out.find("in composite yes"), std::string::npos);
    EXPECT_NE(out.find("hello tests"), std::string::npos) << out;
}

// A composite action's steps are checked when the action is loaded, against its own file: here
// `secrets` (absent from composite actions), a bad expression and a repeated key.
TEST_F(WorkflowRunnerTest, InvalidCompositeActionFailsItsStepWithFileLineAndColumn) {
    fs::create_directories(repo.path() / "act");
    base::writeFile(repo.path() / "act/action.yml", R"Y(name: bad
runs:
  using: composite
  steps:
    - if: env.A == 'x'
      shell: bash
      run: echo "${{ secrets.TOKEN }}"
    - shell: bash
      run: echo "${{ inputs.x == }}"
      name: one
      name: two
)Y");
    auto r = run(R"Y(
on: push
jobs:
  j:
    runs-on: x
    steps:
      - uses: actions/checkout@v4
      - uses: ./act
      - run: echo "after-$((1 + 1))"
)Y");
    EXPECT_EQ(r.result, Result::kFailure);
    const auto& out = capture.logs["j"];
    EXPECT_NE(out.find("act/action.yml:7:22: context 'secrets' is not available in runs.steps.run"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("act/action.yml:9:31: invalid expression in runs.steps.run: Unexpected end"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("act/action.yml:11:7: duplicate key 'name'"), std::string::npos) << out;
    EXPECT_EQ(out.find("after-2"), std::string::npos) << out;
}

TEST_F(WorkflowRunnerTest, AStepsOwnEnvIsInTheEnvContextOfItsIfNameInputsScriptAndDirectory) {
    fs::create_directories(repo.path() / "act");
    base::writeFile(repo.path() / "act/action.yml", R"Y(
name: echoer
inputs:
  said: {required: true}
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "input=${{ inputs.said }} outer=${{ env.OUTER }}"
    - name: inner ${{ env.INNER }}
      if: env.INNER == 'in'
      shell: bash
      run: echo "inner=${{ env.INNER }} outer=${{ env.OUTER }}"
      env: {INNER: in}
)Y");
    auto r = run(R"Y(
on: push
env: {LEVEL: workflow}
jobs:
  j:
    runs-on: x
    steps:
      - uses: actions/checkout@v4
      - run: mkdir -p stepdir
      - name: named ${{ env.MINE }}
        if: env.MINE == 'mine'
        working-directory: ${{ env.DIR }}
        run: echo "run=${{ env.MINE }} level=${{ env.LEVEL }} from=${{ env.FROM_LEVEL }} pwd=$(basename "$PWD")"
        env: {MINE: mine, DIR: stepdir, LEVEL: step, FROM_LEVEL: "${{ env.LEVEL }}"}
      - name: skipped
        if: env.MINE == 'mine'
        run: echo "must not run"
      - uses: ./act
        with: {said: "${{ env.OUTER }}"}
        env: {OUTER: out}
      - run: echo "after=[${{ env.MINE }}]"
)Y");
    EXPECT_EQ(r.result, Result::kSuccess) << capture.all();
    const auto& log = capture.logs["j"];
    EXPECT_NE(log.find("> named mine\n"), std::string::npos) << log;
    // Each key is evaluated against the env context without the step's own env.
    EXPECT_NE(log.find("run=mine level=step from=workflow pwd=stepdir"), std::string::npos) << log;
    EXPECT_EQ(log.find("must not run"), std::string::npos) << log;
    EXPECT_NE(log.find("input=out outer=out"), std::string::npos) << log;
    EXPECT_NE(log.find("/ inner in\n"), std::string::npos) << log;
    EXPECT_NE(log.find("inner=in outer=out"), std::string::npos) << log;
    EXPECT_NE(log.find("after=[]"), std::string::npos) << log;
}

TEST_F(WorkflowRunnerTest, WithoutCheckoutTheWorkspaceIsEmpty) {
    base::writeFile(repo.path() / "data.txt", "payload");
    auto r = run("on: push\njobs:\n  j: {runs-on: x, steps: [{run: 'test ! -e data.txt'}]}\n");
    EXPECT_EQ(r.result, Result::kSuccess);
}

TEST_F(WorkflowRunnerTest, DockerActionsFailWithAClearError) {
    auto r = run("on: push\njobs:\n  j: {runs-on: x, steps: [{name: img, uses: 'docker://alpine:3'}]}\n");
    EXPECT_EQ(r.result, Result::kFailure);
    EXPECT_NE(capture.logs["j"].find("step 'img' uses a container image"), std::string::npos);
}

TEST_F(WorkflowRunnerTest, GithubPathWorkingDirectoryAndDefaults) {
    auto r = run(R"Y(
on: push
defaults: {run: {shell: sh}}
jobs:
  j:
    runs-on: x
    defaults: {run: {working-directory: sub}}
    steps:
      - run: mkdir -p sub/bin
        working-directory: .
      - run: printf '#!/bin/sh\necho tool-ran\n' > bin/mytool && chmod +x bin/mytool && echo "$PWD/bin" >> "$GITHUB_PATH"
      - run: mytool && basename "$PWD"
)Y");
    EXPECT_EQ(r.result, Result::kSuccess) << capture.all();
    EXPECT_NE(capture.logs["j"].find("tool-ran\nsub\n"), std::string::npos);
}

TEST_F(WorkflowRunnerTest, CustomShellIsFoundThroughGithubPath) {
    auto r = run(R"Y(
on: push
jobs:
  j:
    runs-on: x
    steps:
      - run: |
          mkdir -p "$RUNNER_TEMP/tools"
          printf '#!/bin/sh\necho "myshell ran $(cat "$1")"\n' > "$RUNNER_TEMP/tools/myshell"
          chmod +x "$RUNNER_TEMP/tools/myshell"
          echo "$RUNNER_TEMP/tools" >> "$GITHUB_PATH"
      - run: the script
        shell: myshell {0}
)Y");
    EXPECT_EQ(r.result, Result::kSuccess) << capture.all();
    EXPECT_NE(capture.logs["j"].find("myshell ran the script"), std::string::npos) << capture.all();
}

TEST_F(WorkflowRunnerTest, DefaultEnvironmentVariables) {
    auto r = run(R"Y(
on: push
jobs:
  j:
    runs-on: x
    steps:
      - id: envs
        run: echo "$CI $GITHUB_ACTIONS $GITHUB_REPOSITORY $GITHUB_SHA $GITHUB_JOB $RUNNER_OS $GITHUB_EVENT_NAME $GITHUB_ACTION" && test -f "$GITHUB_EVENT_PATH" && test -d "$RUNNER_TEMP" && test "$PWD" = "$GITHUB_WORKSPACE"
)Y");
    EXPECT_EQ(r.result, Result::kSuccess) << capture.all();
    EXPECT_NE(capture.logs["j"].find("true true me/repo abc j Linux push envs"), std::string::npos) << capture.logs["j"];
}

TEST_F(WorkflowRunnerTest, GithubEnvAndGithubPathNameTheStepsOwnCommandFiles) {
    auto r = run(R"Y(
on: push
jobs:
  j:
    runs-on: x
    steps:
      - run: |
          test "${{ github.env }}" = "$GITHUB_ENV" && test "${{ github.path }}" = "$GITHUB_PATH" && echo same-files
          echo "VIA_CONTEXT=yes" >> "${{ github.env }}"
          mkdir -p "$RUNNER_TEMP/bin" && echo "$RUNNER_TEMP/bin" >> "${{ github.path }}"
      - run: echo "env=$VIA_CONTEXT"; case ":$PATH:" in *":$RUNNER_TEMP/bin:"*) echo on-path ;; esac
      - name: files ${{ github.env != '' }}
        run: test "${{ github.env }}" = "$GITHUB_ENV" && echo fresh-files
)Y");
    EXPECT_EQ(r.result, Result::kSuccess) << capture.all();
    const auto& log = capture.logs["j"];
    EXPECT_NE(log.find("same-files\n"), std::string::npos) << log;
    EXPECT_NE(log.find("env=yes\n"), std::string::npos) << log;
    EXPECT_NE(log.find("on-path\n"), std::string::npos) << log;
    EXPECT_NE(log.find("fresh-files\n"), std::string::npos) << log;
    EXPECT_NE(capture.all().find("files true"), std::string::npos) << capture.all();
}

TEST_F(WorkflowRunnerTest, PullRequestPayloadFillsHeadRefAndBaseRef) {
    opts.event_name = "pull_request";
    opts.event = Json::parse(R"({"number": 7, "pull_request": {"number": 7,
        "head": {"ref": "feature/x", "sha": "f00"}, "base": {"ref": "main", "sha": "ba5e"}}})");
    auto r = run(R"Y(
on: pull_request
jobs:
  into-main:
    if: github.base_ref == 'main'
    runs-on: x
    steps:
      - run: echo "refs ${{ github.head_ref }} ${{ github.base_ref }} $GITHUB_HEAD_REF $GITHUB_BASE_REF"
)Y");
    EXPECT_EQ(r.result, Result::kSuccess) << capture.all();
    EXPECT_NE(capture.logs["into-main"].find("refs feature/x main feature/x main\n"), std::string::npos)
        << capture.all();
}

TEST_F(WorkflowRunnerTest, HeadRefAndBaseRefStayEmptyOutsidePullRequests) {
    opts.event_name = "push";
    opts.event = Json::parse(R"({"pull_request": {"head": {"ref": "x"}, "base": {"ref": "y"}}})");
    auto r = run(R"Y(
on: push
jobs:
  j:
    runs-on: x
    steps:
      - run: echo "refs[${{ github.head_ref }}][${{ github.base_ref }}]"
)Y");
    EXPECT_EQ(r.result, Result::kSuccess) << capture.all();
    EXPECT_NE(capture.logs["j"].find("refs[][]\n"), std::string::npos) << capture.all();
}

TEST_F(WorkflowRunnerTest, InputsAreTypedAsDeclaredWhileGithubEventInputsStayText) {
    opts.event_name = "workflow_dispatch";
    opts.inputs = {{"flag", "false"}, {"count", "3"}, {"ratio", "0.5"}, {"name", "true"}};
    opts.event = Json::parse(R"({"inputs": {"flag": "false", "count": "3", "ratio": "0.5", "name": "true"}})");
    auto r = run(R"Y(
on:
  workflow_dispatch:
    inputs:
      flag: {type: boolean, default: true}
      count: {type: number}
      ratio: {type: number}
      name: {type: string}
jobs:
  j:
    if: ${{ !inputs.flag }}
    runs-on: x
    steps:
      - run: echo 'typed ${{ toJSON(inputs) }}'
      - if: inputs.flag
        run: echo "a false boolean input is not truthy"
      - run: echo "text ${{ github.event.inputs.flag == 'false' }} ${{ inputs.count == 3 }} ${{ inputs.name == 'true' }}"
)Y");
    EXPECT_EQ(r.result, Result::kSuccess) << capture.all();
    const auto& log = capture.logs["j"];
    ASSERT_NE(log.find(R"(typed {)"), std::string::npos) << capture.all();
    const auto open = log.find("typed {") + 6;
    const auto json = Json::parse(log.substr(open, log.find('}', open) - open + 1));
    EXPECT_EQ(json["flag"], false);
    EXPECT_EQ(json["count"], 3);
    EXPECT_EQ(json["ratio"], 0.5);
    EXPECT_EQ(json["name"], "true");
    EXPECT_EQ(log.find("not truthy"), std::string::npos) << log;
    EXPECT_NE(log.find("text true true true\n"), std::string::npos) << log;
}

TEST_F(WorkflowRunnerTest, DefaultGithubAndRunnerVariablesCannotBeOverriddenByEnv) {
    auto r = run(R"Y(
on: push
env: {GITHUB_SHA: wf, RUNNER_OS: wf, CI: wf-ci}
jobs:
  build:
    runs-on: x
    env: {GITHUB_REPOSITORY: job/repo, GITHUB_WORKSPACE: /elsewhere}
    steps:
      - run: echo "GITHUB_JOB=mine" >> "$GITHUB_ENV"
      - run: echo "sha=$GITHUB_SHA os=$RUNNER_OS repo=$GITHUB_REPOSITORY job=$GITHUB_JOB ci=$CI temp-ok=$([ "$RUNNER_TEMP" != /tmp/x ] && echo y) ws=$GITHUB_WORKSPACE env=${{ env.GITHUB_SHA }}"
        env: {RUNNER_TEMP: /tmp/x, GITHUB_OUTPUT: /tmp/stolen}
      - id: o
        run: echo "v=1" >> "$GITHUB_OUTPUT"
        env: {GITHUB_OUTPUT: /dev/null}
      - run: echo "out=${{ steps.o.outputs.v }}"
)Y");
    EXPECT_EQ(r.result, Result::kSuccess) << capture.all();
    const auto& log = capture.logs["build"];
    // CI may be overridden (GitHub documents it); GITHUB_* and RUNNER_* keep the runner's values.
    // The env context still shows what the workflow set.
    EXPECT_NE(log.find("sha=abc os=Linux repo=me/repo job=build ci=wf-ci temp-ok=y ws=/"),
              std::string::npos)
        << log;
    EXPECT_EQ(log.find("ws=/elsewhere"), std::string::npos) << log;
    EXPECT_NE(log.find(" env=wf\n"), std::string::npos) << log;
    EXPECT_NE(log.find("out=1\n"), std::string::npos) << log;
}

TEST_F(WorkflowRunnerTest, SelectedJobRunsWithItsNeedsOnly) {
    auto r = run(R"Y(
on: push
jobs:
  a: {runs-on: x, steps: [{run: echo a}]}
  b: {runs-on: x, needs: a, steps: [{run: echo b}]}
  c: {runs-on: x, steps: [{run: echo c}]}
)Y",
                 {"b"});
    EXPECT_EQ(r.jobs.size(), 2u);
    EXPECT_EQ(capture.logs.count("c"), 0u);
}

TEST_F(WorkflowRunnerTest, HashFilesSeesTheWorkspace) {
    base::writeFile(repo.path() / "a.lock", "x");
    auto r = run(R"Y(
on: push
jobs:
  j:
    runs-on: x
    steps:
      - uses: actions/checkout@v4
      - run: test -n "${{ hashFiles('**/*.lock') }}" && test -z "${{ hashFiles('nothing-*') }}"
)Y");
    EXPECT_EQ(r.result, Result::kSuccess) << capture.all();
}

// exec's workspace: a copy of the working tree before the first step.
TEST_F(WorkflowRunnerTest, TheWorkspaceStartsAsTheWorkingTreeWhenAsked) {
    base::writeFile(repo.path() / "data.txt", "from the working tree\n");
    fs::create_directories(repo.path() / "local-action");
    base::writeFile(repo.path() / "local-action/action.yml",
                    "name: l\nruns:\n  using: composite\n  steps:\n    - run: echo local action ran\n      shell: sh\n");
    struct FakeLease : CheckoutLease {
        std::string c = "0123456789abcdef0123456789abcdef01234567";
        std::vector<SubmoduleRef> s;
        const std::string& commit() const override { return c; }
        bool cacheHit() const override { return false; }
        const std::vector<SubmoduleRef>& submodules() const override { return s; }
        void abandon() override {}
    };
    opts.checkout_provider = [](const CheckoutSpec&, const fs::path& dst) -> std::unique_ptr<CheckoutLease> {
        fs::create_directories(dst);
        base::writeFile(dst / "other.txt", "other repository\n");
        return std::make_unique<FakeLease>();
    };
    opts.workspace_from_repo = true;
    auto r = run(R"Y(
on: push
jobs:
  j:
    runs-on: x
    steps:
      - uses: ./local-action
      - run: cat data.txt && test -n "${{ hashFiles('data.txt') }}"
      - run: echo junk > junk.txt
      - uses: actions/checkout@v4
      - run: test ! -e junk.txt && echo refreshed by the checkout
      - uses: actions/checkout@v4
        with: {repository: other/lib}
      - run: test ! -e data.txt && cat other.txt
)Y");
    EXPECT_EQ(r.result, Result::kSuccess) << capture.all();
    for (const char* line : {"local action ran\n", "from the working tree\n", "refreshed by the checkout\n",
                             "other repository\n"}) {
        EXPECT_NE(capture.all().find(line), std::string::npos) << line << capture.all();
    }
}

// The daemon's workspace (GitHub's rule): empty until actions/checkout.
TEST_F(WorkflowRunnerTest, WithoutTheWorkingTreeLocalActionsNeedACheckout) {
    fs::create_directories(repo.path() / "local-action");
    base::writeFile(repo.path() / "local-action/action.yml",
                    "name: l\nruns:\n  using: composite\n  steps:\n    - run: echo ran\n      shell: sh\n");
    auto r = run(R"Y(
on: push
jobs:
  j:
    runs-on: x
    steps:
      - uses: ./local-action
)Y");
    EXPECT_EQ(r.result, Result::kFailure);
    EXPECT_NE(capture.all().find("did a checkout step run first?"), std::string::npos) << capture.all();
}

}  // namespace
}  // namespace nixjail::runner::engine
