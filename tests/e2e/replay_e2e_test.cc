// End-to-end: the daemon runs a job from the fake forge (a matrix value, workflow env, a var, a
// secret, a checkout of the task's commit), then `nixjail-runner replay JOB_ID` runs it again from
// the job database and gets the same step results and the same closure; the database holds no
// secret; a replay without the secret, of an unknown job and of a job without a record fail
// clearly.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon_e2e.h"
#include "e2e_run.h"
#include "runner/base/file_io.h"

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using nixjail::e2e::DaemonE2E;
using nixjail::e2e::has;
using nixjail::e2e::runBinary;

const std::string kDeployKey = "s3cr3t-deploy-key-value";

const char* kReplayedJob = R"Y(on: push
env:
  GREETING: hello
jobs:
  build:
    runs-on: nix
    strategy:
      matrix:
        os: [linux]
    env:
      TARGET: ${{ matrix.os }}
    steps:
      - uses: actions/checkout@v4
      - name: facts
        env:
          SUFFIX: deploy-key-value
        run: |
          test "$(cat README.md)" = "checked out from the forge"
          test "$(git rev-parse HEAD)" = "${{ github.sha }}"
          test "$GREETING-$TARGET" = "hello-linux"
          test "${{ vars.CHANNEL }}" = "stable"
          test "${{ secrets.DEPLOY_KEY }}" = "s3cr3t-$SUFFIX"
          echo "all facts hold"
      - name: only on failure
        if: failure()
        run: echo never
)Y";

class ReplayE2E : public DaemonE2E {
  protected:
    // Runs kReplayedJob in the daemon (started with `env`) at the pushed commit of acme/app on a
    // file:// forge; returns the job's id in the database.
    int64_t runJobInTheDaemon(std::vector<std::string> env, double timeout_s) {
        const std::string sha = nixjail::e2e::makeAppRepository(dir_.path() / "git");
        startDaemon(std::move(env));
        const int64_t job =
            enqueue(kReplayedJob, {{"context",
                                    {{"repository", "acme/app"},
                                     {"workflow", "ci.yml"},
                                     {"ref", "refs/heads/main"},
                                     {"sha", sha},
                                     {"server_url", "file://" + (dir_.path() / "git").string()}}},
                                   {"secrets", {{"DEPLOY_KEY", kDeployKey}}},
                                   {"vars", {{"CHANNEL", "stable"}}}});
        const auto task = forge_.waitJob(job, true, true, timeout_s);
        EXPECT_EQ(task["result"], "RESULT_SUCCESS") << nixjail::e2e::logText(task) << daemonLog();
        EXPECT_EQ(stopDaemon(), 0) << daemonLog();
        recorded_ = jobsJson();
        EXPECT_EQ(recorded_.size(), 1u);
        return recorded_.empty() ? 0 : recorded_[0]["id"].get<int64_t>();
    }

    nixjail::e2e::Run replay(int64_t id, std::vector<std::string> args,
                             std::vector<std::string> env) {
        args.insert(args.begin(), {"replay", std::to_string(id), "--config", config_.string(),
                                   "--json-summary", summaryFile().string()});
        return runBinary(std::move(args), dir_.path(), std::move(env));
    }
    fs::path summaryFile() const { return dir_.path() / "replay.json"; }
    Json summary() const { return Json::parse(nixjail::base::readFile(summaryFile())); }
    fs::path secretFile() {
        const auto file = dir_.path() / "secrets.env";
        nixjail::base::writeFile(file, "DEPLOY_KEY=" + kDeployKey + "\n");
        return file;
    }

    // The replay's steps are the recorded ones, by name and result.
    void expectTheRecordedSteps(const Json& replay) {
        const auto& steps = recorded_[0]["steps"];
        ASSERT_EQ(replay["steps"].size(), steps.size()) << replay;
        for (size_t i = 0; i < steps.size(); ++i) {
            EXPECT_EQ(replay["steps"][i]["name"], steps[i]["name"]) << replay;
            EXPECT_EQ(replay["steps"][i]["replay"], steps[i]["status"]) << replay;
            EXPECT_EQ(replay["steps"][i]["recorded"], steps[i]["status"]) << replay;
        }
        EXPECT_EQ(replay["steps_same"], true) << replay;
    }

    // Nothing of the job's secret in any of the database's files.
    void expectNoSecretInTheDatabase() {
        for (const auto& entry : fs::directory_iterator(dir_.path())) {
            if (entry.path().filename().string().rfind("jobs.sqlite", 0) != 0) continue;
            EXPECT_FALSE(has(nixjail::base::readFile(entry.path()), kDeployKey)) << entry.path();
        }
    }

    Json recorded_;
};

TEST_F(ReplayE2E, AReplayGetsTheRecordedStepResults) {
    const int64_t id = runJobInTheDaemon(nixjail::e2e::baseEnv(), 60);
    ASSERT_GT(id, 0);
    EXPECT_EQ(recorded_[0]["matrix"], R"({"os":"linux"})");
    expectNoSecretInTheDatabase();

    const auto r = replay(id, {"--secret-file", secretFile().string()}, nixjail::e2e::baseEnv());
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "all facts hold")) << r.out;
    EXPECT_TRUE(has(r.out, "build (linux)")) << r.out;
    EXPECT_TRUE(has(r.out, "steps: the same results as recorded")) << r.out;
    EXPECT_TRUE(has(r.out, "closure: none")) << r.out;
    EXPECT_FALSE(has(r.out + r.err, kDeployKey)) << "masked in the replay's output too";
    EXPECT_FALSE(has(r.err, "not given")) << r.err;
    EXPECT_TRUE(has(r.err, "the task's token (secrets ")) << r.err;
    EXPECT_FALSE(has(r.err, "recorded as ***")) << "the workflow itself holds no secret";
    const auto s = summary();
    EXPECT_EQ(s["result"], "success") << s;
    expectTheRecordedSteps(s["replay"]);
    EXPECT_EQ(s["replay"]["closure"]["same"], true);
    EXPECT_TRUE(s["replay"]["closure"]["recorded"].is_null()) << "the host executor makes no root";
}

TEST_F(ReplayE2E, AMissingSecretIsNamedAndTheJobRunsWithItEmpty) {
    const int64_t id = runJobInTheDaemon(nixjail::e2e::baseEnv(), 60);
    ASSERT_GT(id, 0);
    const auto r = replay(id, {}, nixjail::e2e::baseEnv());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(has(r.err, "secrets of job " + std::to_string(id) +
                               " not given: DEPLOY_KEY; the job runs with them empty"))
        << r.err;
    EXPECT_TRUE(has(r.err, "the replay's step results differ from the recorded ones")) << r.err;
    const auto s = summary();
    EXPECT_EQ(s["replay"]["missing_secrets"], Json::array({"DEPLOY_KEY"}));
    EXPECT_EQ(s["replay"]["steps"][1]["name"], "facts");
    EXPECT_EQ(s["replay"]["steps"][1]["replay"], "failure");
    EXPECT_EQ(s["replay"]["steps"][2]["replay"], "success") << "if: failure() ran this time";
}

TEST_F(ReplayE2E, AnUnknownJobOrOneWithoutARecordIsRefusedSayingWhy) {
    const int64_t id = runJobInTheDaemon(nixjail::e2e::baseEnv(), 60);
    ASSERT_GT(id, 0);
    const auto unknown = replay(id + 100, {}, nixjail::e2e::baseEnv());
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_TRUE(has(unknown.err, "no job " + std::to_string(id + 100) + " in '")) << unknown.err;
    EXPECT_TRUE(has(unknown.err, "`nixjail-runner jobs` lists the jobs")) << unknown.err;

    // As a job recorded before migration 007 is: no replay column value.
    auto python = nixjail::base::ChildProcess::spawn(
        {.argv = {"python3", "-c",
                  "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                  "c.execute('UPDATE jobs SET replay = NULL'); c.commit()",
                  db().string()},
         .env = nixjail::e2e::baseEnv()});
    ASSERT_EQ(python.wait().exitCode(), 0);
    const auto old = replay(id, {}, nixjail::e2e::baseEnv());
    EXPECT_EQ(old.exit_code, 1);
    EXPECT_TRUE(has(old.err, "has no replay record")) << old.err;
    EXPECT_TRUE(has(old.err, "(database migration 007)")) << old.err;
}

// In the namespace jail with a Nix root: the replay's root is made from the same closure, which
// is the daemon's cached root. Needs root and Nix.
TEST_F(ReplayE2E, AJailedReplayUsesTheRecordedClosure) {
    NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing());
    writeConfig("", "\"\"", nixjail::e2e::jailedNixConfig("bash, coreutils, git"));
    const int64_t id = runJobInTheDaemon(nixjail::e2e::nixEnv(), 180);
    ASSERT_GT(id, 0);
    expectNoSecretInTheDatabase();

    const auto r = replay(id, {"--secret-file", secretFile().string()}, nixjail::e2e::nixEnv());
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "all facts hold")) << r.out;
    const auto s = summary();
    expectTheRecordedSteps(s["replay"]);
    const auto& closure = s["replay"]["closure"];
    ASSERT_TRUE(closure["recorded"].is_string()) << s["replay"];
    const std::string key = closure["recorded"];
    EXPECT_EQ(key.size(), 64u) << key;
    EXPECT_EQ(closure["replay"], key);
    EXPECT_EQ(closure["same"], true);
    EXPECT_TRUE(has(r.out, "closure: " + key + " (the same as recorded)")) << r.out;
    EXPECT_TRUE(fs::exists(dir_.path() / "cache/roots" / (key + ".done")))
        << "the recorded key is the daemon's cached root";
    EXPECT_FALSE(has(r.err, "differs")) << r.err;
    EXPECT_FALSE(has(r.err, "is not what it was")) << r.err;
}

}  // namespace
