// The replay record: what it keeps of a task, that it keeps no secret (down to the bytes of the
// job database after a real task ran), and the root witness that fills in the job's root.
#include "runner/daemon/replay_record.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "executor/host/host_executor.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/daemon/root_witness.h"
#include "runner/daemon/task_runner.h"
#include "runner/forge/fake_forge_client.h"

namespace nixjail::runner::daemon {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kTaskToken = "task-token-0123456789abcdef";
const std::string kRuntimeToken = "eyJhbGciOiJIUzI1NiJ9.runtime-claims.runtime-signature";
const std::string kDeployKey = "s3cr3t-deploy-key-value";
const std::string kMultiLine = "first-secret-line\nsecond-secret-line";

// A task as the forges send it: the token in the context and as GITHUB_TOKEN/GITEA_TOKEN.
forge::Task taskWithSecrets(int64_t id, const std::string& yaml) {
    forge::Task t;
    t.id = id;
    t.workflow_payload = yaml;
    t.context = {{"repository", "acme/app"},
                 {"workflow", "ci.yml"},
                 {"event_name", "push"},
                 {"sha", "0123abcd"},
                 {"event", {{"ref", "refs/heads/main"}}},
                 {"token", kTaskToken},
                 {"gitea_runtime_token", kRuntimeToken},
                 {"other_token", "some-future-forge-token"}};
    t.secrets = {{"GITHUB_TOKEN", kTaskToken},
                 {"GITEA_TOKEN", kTaskToken},
                 {"DEPLOY_KEY", kDeployKey},
                 {"MULTI", kMultiLine}};
    t.vars = {{"CHANNEL", "stable"}};
    return t;
}

// As runTask's masker: the task's secrets and tokens.
void addSecretsOf(const forge::Task& t, actions::SecretMasker& m) {
    for (const auto& [k, v] : t.secrets) m.add(v);
    m.add(t.context.value("token", ""));
    m.add(t.context.value("gitea_runtime_token", ""));
}

TEST(ReplayRecord, TheContextLosesItsTokensAndSecretsKeepOnlyTheirNames) {
    const auto t = taskWithSecrets(7, "on: push\n");
    const auto r = replayRecordOf(t, "https://forge.example");
    EXPECT_FALSE(r.context.contains("token"));
    EXPECT_FALSE(r.context.contains("gitea_runtime_token"));
    EXPECT_FALSE(r.context.contains("other_token"));
    EXPECT_EQ(r.context.at("repository"), "acme/app");
    EXPECT_EQ(r.context.at("event").at("ref"), "refs/heads/main");
    EXPECT_EQ(r.context.at("server_url"), "https://forge.example") << "as the job saw it";
    EXPECT_EQ(r.secret_names, (std::vector<std::string>{"DEPLOY_KEY", "MULTI"}));
    EXPECT_EQ(r.token_secret_names, (std::vector<std::string>{"GITEA_TOKEN", "GITHUB_TOKEN"}));
    EXPECT_EQ(r.vars.at("CHANNEL"), "stable");
}

TEST(ReplayRecord, RoundTripsThroughItsJson) {
    auto t =
        taskWithSecrets(7, "on: push\njobs:\n  b:\n    runs-on: nix\n    steps: [{run: 'true'}]\n");
    t.needs["setup"] = {{{"version", "1.2"}}, forge::Result::Success};
    auto r = replayRecordOf(t, "https://forge.example");
    r.job_id = "b";
    r.matrix = {{"os", "linux"}, {"n", 3}};
    r.root = RootRecord{.packages = {"bash", "coreutils"},
                        .labels = {"nix"},
                        .extra = {"nodejs"},
                        .source = "2 packages, plus nodejs",
                        .closure_key = "3f9c00",
                        .nixpkgs = "/srv/nixpkgs",
                        .nixpkgs_identity = "tree /srv/nixpkgs abc"};
    actions::SecretMasker masker;
    addSecretsOf(t, masker);
    const auto back = parseReplayRecord(replayJson(r, masker));
    EXPECT_EQ(back.workflow_payload, t.workflow_payload);
    EXPECT_EQ(back.context, r.context);
    EXPECT_EQ(back.vars, r.vars);
    ASSERT_EQ(back.needs.count("setup"), 1u);
    EXPECT_EQ(back.needs.at("setup").result, forge::Result::Success);
    EXPECT_EQ(back.needs.at("setup").outputs.at("version"), "1.2");
    EXPECT_EQ(back.job_id, "b");
    EXPECT_EQ(back.matrix, r.matrix);
    EXPECT_EQ(back.secret_names, r.secret_names);
    EXPECT_EQ(back.token_secret_names, r.token_secret_names);
    ASSERT_TRUE(back.root);
    EXPECT_EQ(back.root->packages, r.root->packages);
    EXPECT_EQ(back.root->extra, r.root->extra);
    EXPECT_EQ(back.root->closure_key, "3f9c00");
    EXPECT_EQ(back.root->nixpkgs, "/srv/nixpkgs");
    EXPECT_EQ(back.root->nixpkgs_identity, "tree /srv/nixpkgs abc");
    EXPECT_TRUE(back.masked.empty());
    const auto task = taskOf(back, 7, {{"DEPLOY_KEY", "given"}});
    EXPECT_EQ(task.workflow_payload, t.workflow_payload);
    EXPECT_EQ(task.secrets.at("DEPLOY_KEY"), "given");
    EXPECT_EQ(task.needs.at("setup").outputs.at("version"), "1.2");
}

// A secret's value that also occurs elsewhere (a var, the payload) is masked there, and the
// record says which fields were, so a replay can warn that it runs them as masked.
TEST(ReplayRecord, ASecretsValueElsewhereIsMaskedAndTheFieldNamed) {
    auto t = taskWithSecrets(7, "on: push\n# deploys with " + kDeployKey + "\n");
    t.vars["MIRROR"] = kDeployKey;
    actions::SecretMasker masker;
    addSecretsOf(t, masker);
    const std::string json = replayJson(replayRecordOf(t, "x"), masker);
    EXPECT_EQ(json.find(kDeployKey), std::string::npos) << json;
    const auto back = parseReplayRecord(json);
    EXPECT_EQ(back.vars.at("MIRROR"), "***");
    EXPECT_EQ(back.masked, (std::vector<std::string>{"vars", "workflow_payload"}));
}

TEST(ReplayRecord, ARecordItCannotReadIsRefusedSayingWhy) {
    try {
        parseReplayRecord(R"({"version": 99})");
        FAIL() << "a newer version was read";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("written by a newer release"), std::string::npos)
            << e.what();
    }
    EXPECT_THROW(parseReplayRecord("not json"), base::Error);
    EXPECT_THROW(parseReplayRecord(R"({"version": 1})"), base::Error);
}

class FakeRoot : public engine::JobRoot {
  public:
    const fs::path& root() const override { return root_; }
    std::string binPath() const override { return "/bin"; }
    bool cacheHit() const override { return true; }
    Timings timings() const override { return {}; }
    std::string source() const override { return "2 packages"; }
    engine::RootOrigin origin() const override { return {"closure-key", "/nixpkgs", "identity"}; }

  private:
    fs::path root_ = "/";
};

TEST(RootWitness, SeesTheRequestAndTheRootsOrigin) {
    RootWitness witness;
    EXPECT_FALSE(witness.seen());
    auto provider = witness.wrap(
        [](const engine::RootRequest&, const fs::path&) { return std::make_unique<FakeRoot>(); });
    auto root = provider({.packages = {"bash"}, .labels = {"nix"}, .extra = {"nodejs"}}, "/x");
    ASSERT_TRUE(root);
    const auto seen = witness.seen();
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->packages, std::vector<std::string>{"bash"});
    EXPECT_EQ(seen->labels, std::vector<std::string>{"nix"});
    EXPECT_EQ(seen->extra, std::vector<std::string>{"nodejs"});
    EXPECT_EQ(seen->source, "2 packages");
    EXPECT_EQ(seen->closure_key, "closure-key");
    EXPECT_EQ(seen->nixpkgs, "/nixpkgs");
    EXPECT_EQ(seen->nixpkgs_identity, "identity");
}

// The daemon's own path: a task carrying secrets and tokens runs through runTask, the recorder
// and the store; afterwards no secret's value (nor a line of the multi-line one) is anywhere in
// the database's files, and the row holds the names.
TEST(ReplayRecordInTheDatabase, ATaskCarryingSecretsLeavesNoneOfThemInTheDatabase) {
    base::TempDir dir;
    config::RunnerConfig config;
    config.runner.job_timeout = std::chrono::minutes(5);
    auto store = std::make_unique<store::JobStore>(dir.path() / "jobs.sqlite");
    forge::FakeForgeClient forge;
    Metrics metrics;
    executor::HostExecutor executor;
    JobResources res;
    res.config = &config;
    res.client = &forge;
    res.store = store.get();
    res.metrics = &metrics;
    res.job_defaults.executor = &executor;
    res.forge_address = "http://forge.invalid";
    res.log =
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
    res.flush_interval = std::chrono::milliseconds(100);

    auto t = taskWithSecrets(31, R"(on: push
jobs:
  build:
    runs-on: nix
    strategy:
      matrix:
        os: [linux]
    env:
      KEY: ${{ secrets.DEPLOY_KEY }}
    outputs:
      leaked: ${{ steps.s.outputs.value }}
    steps:
      - id: s
        name: uses ${{ secrets.DEPLOY_KEY }}
        run: |
          echo "value=$KEY" >> "$GITHUB_OUTPUT"
          echo "key $KEY token ${{ github.token }} runtime $ACTIONS_RUNTIME_TOKEN"
          echo "${{ secrets.MULTI }}"
      - name: fails with ${{ secrets.DEPLOY_KEY }}
        run: echo "${{ secrets.GITHUB_TOKEN }}"; exit 3
)");
    t.vars["MIRROR"] = kDeployKey;
    forge.enqueueTask(t);
    std::stop_source give_up;
    const auto result = runTask(*forge.fetchTask(0).task, res, {}, give_up.get_token());
    EXPECT_EQ(result.result, forge::Result::Failure);

    const auto jobs = store->recentJobs(1);
    ASSERT_EQ(jobs.size(), 1u);
    const auto text = store->replayRecord(jobs[0].id);
    ASSERT_TRUE(text);
    const auto record = parseReplayRecord(*text);
    EXPECT_EQ(record.job_id, "build");
    EXPECT_EQ(record.matrix, (Json{{"os", "linux"}}));
    EXPECT_EQ(record.secret_names, (std::vector<std::string>{"DEPLOY_KEY", "MULTI"}));
    EXPECT_EQ(record.token_secret_names, (std::vector<std::string>{"GITEA_TOKEN", "GITHUB_TOKEN"}));
    EXPECT_FALSE(record.context.contains("token"));
    EXPECT_FALSE(record.context.contains("gitea_runtime_token"));
    EXPECT_EQ(record.vars.at("CHANNEL"), "stable");
    EXPECT_EQ(record.vars.at("MIRROR"), "***");
    EXPECT_FALSE(record.root) << "the host executor makes no root";
    ASSERT_EQ(store->steps(jobs[0].id).size(), 2u);

    const std::vector<std::string> secrets = {kTaskToken,
                                              kRuntimeToken,
                                              kDeployKey,
                                              kMultiLine,
                                              "first-secret-line",
                                              "second-secret-line",
                                              "some-future-forge-token"};
    auto expectNoSecretIn = [&](const std::string& when) {
        std::string all;
        for (const auto& entry : fs::directory_iterator(dir.path())) {
            if (entry.path().filename().string().rfind("jobs.sqlite", 0) != 0) continue;
            const std::string bytes = base::readFile(entry.path());
            for (const auto& s : secrets) {
                EXPECT_EQ(bytes.find(s), std::string::npos)
                    << "'" << s << "' is in " << entry.path() << " " << when;
            }
            all += bytes;
        }
        // The scan sees the record: its var's value is there, in plain text.
        EXPECT_NE(all.find("\"CHANNEL\":\"stable\""), std::string::npos) << when;
    };
    for (const auto& s : secrets) EXPECT_EQ(text->find(s), std::string::npos) << s;
    expectNoSecretIn("while the store is open (WAL)");
    store.reset();  // checkpoints the WAL into the database file
    expectNoSecretIn("after the store closed");
}

}  // namespace
}  // namespace nixjail::runner::daemon
