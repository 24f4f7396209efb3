// End-to-end: JavaScript actions (runs.using node20) in `exec` with the host executor: inputs and
// their defaults, outputs, pre/main/post order with state, post-if, a remote action fetched by git.
// The actions in tests/e2e/actions use the @actions/core environment contract without npm.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "e2e_run.h"
#include "runner/base/child_process.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using nixjail::base::ChildProcess;
using nixjail::base::TempDir;
using nixjail::e2e::baseEnv;
using nixjail::e2e::kSource;
using nixjail::e2e::runHostExec;

const fs::path kWorkflows = kSource / "tests/e2e/workflows";

using nixjail::e2e::has;

size_t at(const std::string& hay, const std::string& needle) {
    const auto p = hay.find(needle);
    EXPECT_NE(p, std::string::npos) << "missing '" << needle << "' in\n" << hay;
    return p;
}

// The steps of one job in the JSON summary: name -> conclusion, in order.
std::vector<std::pair<std::string, std::string>> steps(const fs::path& summary,
                                                       const std::string& job) {
    std::vector<std::pair<std::string, std::string>> out;
    const auto parsed = nlohmann::json::parse(nixjail::base::readFile(summary));
    for (const auto& j : parsed["workflows"][0]["jobs"]) {
        if (j["id"] != job) continue;
        for (const auto& s : j["steps"]) out.emplace_back(s["name"], s["conclusion"]);
    }
    return out;
}

TEST(ExecNodeE2E, InputsOutputsAndPrePostOrderWithState) {
    TempDir tmp;
    const auto summary = tmp.path() / "s.json";
    auto r = runHostExec(
        {"exec", "-W", (kWorkflows / "node.yml").string(), "--json-summary", summary.string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    // `with:` wins; the default of greeting-word is an expression evaluated in the job.
    EXPECT_TRUE(has(r.out, "first said: hello from greet, e2e")) << r.out;
    EXPECT_TRUE(has(r.out, "second said: hello from greet, world")) << r.out;
    EXPECT_TRUE(has(r.out, "node-greet action path: matches"));
    // pre before main (its state reaches main), the posts last, the newest main's post first.
    const auto pre1 = at(r.out, "node-greet pre: who=e2e");
    const auto main1 = at(r.out, "node-greet main: hello from greet, e2e (pre said from-pre)");
    const auto main2 = at(r.out, "node-greet main: hello from greet, world");
    const auto echo = at(r.out, "first said:");
    const auto post2 = at(
        r.out, "node-greet post: who=world started=world-started legacy=via-command pre=from-pre");
    const auto post1 =
        at(r.out, "node-greet post: who=e2e started=e2e-started legacy=via-command pre=from-pre");
    EXPECT_LT(pre1, main1);
    EXPECT_LT(main1, main2);
    EXPECT_LT(main2, echo);
    EXPECT_LT(echo, post2);
    EXPECT_LT(post2, post1);
    const auto s = steps(summary, "greet");
    ASSERT_EQ(s.size(), 6u);
    EXPECT_EQ(s[4], (std::pair<std::string, std::string>{"Post Greet with defaults", "success"}));
    EXPECT_EQ(s[5], (std::pair<std::string, std::string>{"Post Greet e2e", "success"}));
}

TEST(ExecNodeE2E, PostStepsRunAfterFailuresAndRespectPostIf) {
    TempDir tmp;
    const auto summary = tmp.path() / "s.json";
    auto r = runHostExec({"exec", "-W", (kWorkflows / "node_failure.yml").string(), "--json-summary",
                        summary.string()});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    // A later step fails: both posts run, post-if: failure() included, newest first.
    const auto cleanup = at(r.out, "node-cleanup post tag=failing");
    const auto greet =
        at(r.out, "node-greet post: who=before-failure started=before-failure-started");
    EXPECT_LT(cleanup, greet);
    EXPECT_EQ(steps(summary, "fails"), (std::vector<std::pair<std::string, std::string>>{
                                           {"Run actions/checkout@v4", "success"},
                                           {"Greet before failing", "success"},
                                           {"Cleanup on failure", "success"},
                                           {"Run exit 3", "failure"},
                                           {"Run echo \"not reached\"", "skipped"},
                                           {"Post Cleanup on failure", "success"},
                                           {"Post Greet before failing", "success"}}));
    // Nothing fails: the post-if: failure() post is skipped.
    EXPECT_TRUE(has(r.out, "node-cleanup main tag=passing"));
    EXPECT_FALSE(has(r.out, "node-cleanup post tag=passing")) << r.out;
    const auto passes = steps(summary, "passes");
    ASSERT_FALSE(passes.empty());
    EXPECT_EQ(passes.back(),
              (std::pair<std::string, std::string>{"Post Cleanup on failure", "skipped"}));
    // The main step itself fails: its post still runs with the state main saved before failing.
    EXPECT_TRUE(has(r.out, "node-greet was asked to fail"));
    EXPECT_TRUE(has(r.out, "node-greet post: who=failing-main started=failing-main-started"))
        << r.out;
    const auto mainFails = steps(summary, "main-fails");
    ASSERT_EQ(mainFails.size(), 3u);
    EXPECT_EQ(mainFails[1].second, "failure");
    EXPECT_EQ(mainFails[2],
              (std::pair<std::string, std::string>{"Post Greet and fail", "success"}));
    // No node on the step's PATH: a clear error naming the step.
    EXPECT_TRUE(
        has(r.out,
            "step 'Greet without node' runs JavaScript action './tests/e2e/actions/node-greet' "
            "(node20) but there is no 'node' on its PATH"))
        << r.out;
}

TEST(ExecNodeE2E, RemoteNodeActionIsFetchedByGit) {
    TempDir forge("nixjail-forge-");
    const fs::path repo = forge.path() / "example/node-action";
    fs::create_directories(repo / "dist");
    nixjail::base::writeFile(repo / "action.yml", R"Y(name: remote node
inputs:
  name: {required: true}
outputs:
  said: {description: what main said}
runs:
  using: node24
  main: dist/index.js
  post: dist/post.js
)Y");
    nixjail::base::writeFile(repo / "dist/index.js", R"JS(const fs = require('fs');
console.log(`remote main from ${process.env.GITHUB_ACTION_REPOSITORY}`);
fs.appendFileSync(process.env.GITHUB_OUTPUT, `said=hi ${process.env.INPUT_NAME}\n`);
fs.appendFileSync(process.env.GITHUB_STATE, `name=${process.env.INPUT_NAME}\n`);
)JS");
    nixjail::base::writeFile(repo / "dist/post.js",
                             "console.log(`remote post for ${process.env.STATE_name}`);\n");
    auto git = [&](std::vector<std::string> a) {
        a.insert(a.begin(), {"git", "-c", "user.name=t", "-c", "user.email=t@t", "-c",
                             "init.defaultBranch=main"});
        auto c = ChildProcess::spawn({.argv = a, .env = baseEnv(), .cwd = repo});
        ASSERT_EQ(c.wait().exitCode(), 0);
    };
    git({"init", "-q"});
    git({"add", "."});
    git({"commit", "-qm", "node action"});
    git({"tag", "v1"});
    TempDir cache("nixjail-action-cache-");
    auto r =
        runHostExec({"exec", "-W", (kWorkflows / "node_remote.yml").string(), "--default-actions-url",
                   "file://" + forge.path().string(), "--action-cache-dir", cache.path().string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "remote main from example/node-action")) << r.out;
    EXPECT_TRUE(has(r.out, "remote node said hi remote-e2e")) << r.out;
    EXPECT_LT(at(r.out, "remote node said hi remote-e2e"), at(r.out, "remote post for remote-e2e"));
    EXPECT_TRUE(has(r.out, "Post Run example/node-action@v1"));
}

// A remote action's pre runs at the job's start, before the job's first step, in step order and
// when its pre-if holds, as GitHub's "Pre Run ..." steps; its state reaches main and post. The
// second action sits in a subdirectory and reaches its scripts with ../ (as
// actions/cache/restore does); its pre-if is false, so its pre runs neither early nor before main.
TEST(ExecNodeE2E, PreStepsOfRemoteActionsRunBeforeTheJobsFirstStep) {
    TempDir forge("nixjail-forge-");
    const fs::path repo = forge.path() / "example/node-pre-action";
    fs::create_directories(repo / "dist");
    fs::create_directories(repo / "skipped");
    nixjail::base::writeFile(repo / "action.yml", R"Y(name: remote pre
inputs:
  name: {default: nobody}
outputs:
  said: {description: what main said}
runs:
  using: node20
  pre: dist/pre.js
  main: dist/index.js
  post: dist/post.js
)Y");
    nixjail::base::writeFile(repo / "skipped/action.yml", R"Y(name: remote pre skipped
runs:
  using: node20
  pre: ../dist/pre.js
  pre-if: "false"
  main: ../dist/index.js
)Y");
    nixjail::base::writeFile(repo / "dist/pre.js", R"JS(const fs = require('fs');
console.log(`remote pre for ${process.env.INPUT_NAME}`);
fs.appendFileSync(process.env.GITHUB_STATE, `early=from-pre\n`);
)JS");
    nixjail::base::writeFile(repo / "dist/index.js", R"JS(const fs = require('fs');
console.log(`remote main for ${process.env.INPUT_NAME} early=${process.env.STATE_early}`);
fs.appendFileSync(process.env.GITHUB_OUTPUT, `said=hi ${process.env.INPUT_NAME}\n`);
)JS");
    nixjail::base::writeFile(repo / "dist/post.js",
                             "console.log(`remote post early=${process.env.STATE_early}`);\n");
    auto git = [&](std::vector<std::string> a) {
        a.insert(a.begin(), {"git", "-c", "user.name=t", "-c", "user.email=t@t", "-c",
                             "init.defaultBranch=main"});
        auto c = ChildProcess::spawn({.argv = a, .env = baseEnv(), .cwd = repo});
        ASSERT_EQ(c.wait().exitCode(), 0);
    };
    git({"init", "-q"});
    git({"add", "."});
    git({"commit", "-qm", "node action with pre"});
    git({"tag", "v1"});
    TempDir cache("nixjail-action-cache-");
    TempDir tmp;
    const auto summary = tmp.path() / "s.json";
    auto r = runHostExec({"exec", "-W", (kWorkflows / "node_remote_pre.yml").string(),
                          "--default-actions-url", "file://" + forge.path().string(),
                          "--action-cache-dir", cache.path().string(), "--json-summary",
                          summary.string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto pre = at(r.out, "remote pre for pre-e2e");
    const auto first = at(r.out, "the job's first step");
    const auto main = at(r.out, "remote main for pre-e2e early=from-pre");
    EXPECT_LT(pre, first);
    EXPECT_LT(first, main);
    EXPECT_TRUE(has(r.out, "remote main for undefined early=undefined")) << r.out;
    EXPECT_TRUE(has(r.out, "watch said hi pre-e2e")) << r.out;
    EXPECT_TRUE(has(r.out, "remote post early=from-pre")) << r.out;
    EXPECT_FALSE(has(r.out, "remote pre for undefined")) << r.out;
    const auto s = steps(summary, "pre");
    ASSERT_GE(s.size(), 3u);
    EXPECT_EQ(s[0], (std::pair<std::string, std::string>{"Pre Watch", "success"}));
    EXPECT_EQ(s[1], (std::pair<std::string, std::string>{
                        "Pre Run example/node-pre-action/skipped@v1", "skipped"}));
    EXPECT_EQ(s[2].first, "Run echo \"the job's first step\"");
}

// node12 and node16 actions run, as GitHub forces them onto node20, with its deprecation warning
// naming the retired runtime and node20; a runtime GitHub never had is refused with the step's name.
TEST(ExecNodeE2E, RetiredNodeRuntimesRunWithAWarningUnknownOnesAreRefused) {
    TempDir dir("nixjail-e2e-node-");
    for (const char* v : {"node12", "node16", "node8"}) {
        fs::create_directories(dir.path() / v);
        nixjail::base::writeFile(dir.path() / v / "action.yml",
                                 std::string("name: old\nruns:\n  using: ") + v + "\n  main: main.js\n");
        nixjail::base::writeFile(dir.path() / v / "main.js",
                                 std::string("console.log('ran ") + v + "');\n");
    }
    nixjail::base::writeFile(
        dir.path() / "w.yml",
        "on: push\njobs:\n  j:\n    runs-on: nix\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - uses: ./node12\n      - uses: ./node16\n"
        "      - name: Older node\n        uses: ./node8\n");
    auto r = runHostExec({"exec", "-W", "w.yml"}, dir.path());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "ran node12")) << r.out;
    EXPECT_TRUE(has(r.out, "ran node16")) << r.out;
    EXPECT_TRUE(has(r.out, "The following actions use node12, which is deprecated and will be forced "
                           "to run on node20"))
        << r.out;
    EXPECT_TRUE(has(r.out, "use node16, which is deprecated")) << r.out;
    EXPECT_TRUE(has(r.out, "step 'Older node' uses action './node8' with runs.using 'node8'"))
        << r.out;
    EXPECT_FALSE(has(r.out, "ran node8"));
}

// A job that runs out of time is stopped at once: its post steps are skipped and say why.
TEST(ExecNodeE2E, PostStepsOfAStoppedJobAreSkipped) {
    TempDir dir("nixjail-e2e-node-");
    fs::create_directories(dir.path() / "act");
    nixjail::base::writeFile(dir.path() / "act/action.yml",
                             "name: a\nruns:\n  using: node20\n  main: main.js\n  post: post.js\n");
    nixjail::base::writeFile(dir.path() / "act/main.js", "console.log('stopped main ran');\n");
    nixjail::base::writeFile(dir.path() / "act/post.js", "console.log('stopped post ran');\n");
    nixjail::base::writeFile(
        dir.path() / "w.yml",
        "on: push\njobs:\n  j:\n    runs-on: nix\n    timeout-minutes: 0.1\n    steps:\n"
        "      - uses: actions/checkout@v4\n      - name: Act\n        uses: ./act\n"
        "      - run: sleep 30\n");
    auto r = runHostExec({"exec", "-W", "w.yml"}, dir.path());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "stopped main ran")) << r.out;
    EXPECT_FALSE(has(r.out, "stopped post ran")) << r.out;
    EXPECT_TRUE(has(r.out, "Post Act skipped: the job was stopped")) << r.out;
}

}  // namespace
