// End-to-end: the nixjail-runner binary runs workflow files; we check exit codes, logs and the
// JSON summary, and that cancellation leaves no process behind.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include "e2e_run.h"
#include "runner/base/child_process.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using nixjail::base::ChildProcess;
using nixjail::base::Pipe;
using nixjail::base::TempDir;

using nixjail::e2e::baseEnv;
using nixjail::e2e::kSource;
using nixjail::e2e::runHostExec;

const fs::path kWorkflows = kSource / "tests/e2e/workflows";

using nixjail::e2e::has;

TEST(ExecE2E, ExampleWorkflowSucceedsAndWritesSummary) {
    TempDir tmp;
    auto summaryPath = tmp.path() / "summary.json";
    auto r = runHostExec({"exec", "-W", "examples/ci.yml", "--secret", "DEMO_TOKEN=hunter2-token",
                        "--json-summary", summaryPath.string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_FALSE(has(r.out, "hunter2-token"));
    EXPECT_TRUE(has(r.out, "the token is ***"));
    EXPECT_TRUE(has(r.out, "hello, world"));
    auto summary = nlohmann::json::parse(nixjail::base::readFile(summaryPath));
    EXPECT_EQ(summary["result"], "success");
    const auto& jobs = summary["workflows"][0]["jobs"];
    ASSERT_EQ(jobs.size(), 5u);  // build, three test instances, report
    int testInstances = 0;
    for (const auto& j : jobs) {
        if (j["id"] == "test") ++testInstances;
        if (j["id"] == "build") {
            EXPECT_EQ(j["outputs"]["artifact"].get<std::string>().rfind("nixjail-runner-", 0), 0u);
        }
        if (j["id"] == "report") {
            EXPECT_EQ(j["step_summary"], "### example finished\n");
        }
        // The host executor has no root to resolve or prepare; checkouts count as workspace time.
        const auto& phases = j["phases"];
        EXPECT_FALSE(phases.contains("closure_resolution")) << phases;
        EXPECT_FALSE(phases.contains("root_prepare")) << phases;
        for (const char* p : {"workspace_prepare", "execution", "cleanup"}) {
            EXPECT_TRUE(phases.contains(p)) << p << " " << phases;
        }
        if (j["id"] == "build") {
            EXPECT_EQ(phases["workspace_prepare"]["checkouts"], 1) << phases;
        }
    }
    EXPECT_EQ(testInstances, 3);
    EXPECT_FALSE(has(summary.dump(), "hunter2-token"));
}

TEST(ExecE2E, OutputsFlowThroughNeedsToEveryMatrixInstance) {
    auto r = runHostExec({"exec", "-W", (kWorkflows / "outputs.yml").string(), "--secret", "MULTI=first-line\nsecond-line"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    for (int n = 1; n <= 3; ++n) EXPECT_TRUE(has(r.out, "consume " + std::to_string(n) + " got from-produce")) << r.out;
    EXPECT_FALSE(has(r.out, "first-line"));
    EXPECT_FALSE(has(r.out, "second-line"));
}

TEST(ExecE2E, FailingJobGivesExitCodeOneAndSkipsDependents) {
    TempDir tmp;
    auto summaryPath = tmp.path() / "s.json";
    auto r = runHostExec({"exec", "-W", (kWorkflows / "failing.yml").string(), "--json-summary", summaryPath.string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(has(r.out, "Process completed with exit code 4."));
    EXPECT_TRUE(has(r.out, "cleanup-ran"));
    EXPECT_FALSE(has(r.out, "| never"));
    EXPECT_TRUE(std::regex_search(r.out, std::regex("breaks +failure")));
    EXPECT_TRUE(std::regex_search(r.out, std::regex("after +skipped")));
    auto summary = nlohmann::json::parse(nixjail::base::readFile(summaryPath));
    EXPECT_EQ(summary["result"], "failure");
}

TEST(ExecE2E, WorkflowDispatchInputsWithDefaults) {
    TempDir tmp;
    auto event = tmp.path() / "event.json";
    nixjail::base::writeFile(event, R"({"inputs": {}})");
    auto r = runHostExec({"exec", "-W", (kWorkflows / "dispatch.yml").string(), "--event", "workflow_dispatch",
                        "--eventpath", event.string(), "--input", "target=staging"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "level=warn target=staging event=workflow_dispatch payload=staging")) << r.out;
}

TEST(ExecE2E, TheEventPayloadsInputsFillTheInputsContextBelowInputFlags) {
    // Defaults, then the payload's inputs (--eventpath), then --input, as the forge would fill
    // inputs from the dispatch it sends.
    TempDir tmp;
    auto event = tmp.path() / "event.json";
    nixjail::base::writeFile(event, R"({"inputs": {"level": "debug", "target": "prod"}})");
    auto payload = runHostExec({"exec", "-W", (kWorkflows / "dispatch.yml").string(), "--event",
                                "workflow_dispatch", "--eventpath", event.string()});
    ASSERT_EQ(payload.exit_code, 0) << payload.out << payload.err;
    EXPECT_TRUE(has(payload.out, "level=debug target=prod event=workflow_dispatch payload=prod"))
        << payload.out;
    auto flag = runHostExec({"exec", "-W", (kWorkflows / "dispatch.yml").string(), "--event",
                             "workflow_dispatch", "--eventpath", event.string(), "--input",
                             "target=staging"});
    ASSERT_EQ(flag.exit_code, 0) << flag.out << flag.err;
    EXPECT_TRUE(has(flag.out, "level=debug target=staging event=workflow_dispatch payload=staging"))
        << flag.out;
}

TEST(ExecE2E, ALocalReusableWorkflowRunsItsJobsAndMapsItsOutputs) {
    TempDir dir;
    fs::create_directories(dir.path() / ".github/workflows");
    nixjail::base::writeFile(dir.path() / ".github/workflows/ci.yml", R"Y(on: push
jobs:
  build:
    uses: ./.github/workflows/lib.yml
    with:
      target: linux
  report:
    needs: build
    runs-on: nix
    steps:
      - run: echo "artifact=${{ needs.build.outputs.artifact }}"
)Y");
    nixjail::base::writeFile(dir.path() / ".github/workflows/lib.yml", R"Y(on:
  workflow_call:
    inputs:
      target:
        type: string
        required: true
    outputs:
      artifact:
        value: ${{ jobs.compile.outputs.file }}
jobs:
  compile:
    runs-on: nix
    outputs:
      file: ${{ steps.c.outputs.file }}
    steps:
      - id: c
        run: echo "file=app-${{ inputs.target }}" >> "$GITHUB_OUTPUT"
)Y");
    auto r = runHostExec({"exec"}, dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "job build / compile: success")) << r.out;
    EXPECT_TRUE(has(r.out, "| artifact=app-linux")) << r.out;
    auto plan = runHostExec({"exec", "--dry-run"}, dir.path());
    ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
    EXPECT_TRUE(has(plan.out, "calls the reusable workflow ./.github/workflows/lib.yml")) << plan.out;
}

TEST(ExecE2E, ADispatchWithAnUndeclaredOrAMissingRequiredInputIsRefusedAsOnGitHub) {
    TempDir dir;
    nixjail::base::writeFile(dir.path() / "w.yml", R"Y(on:
  workflow_dispatch:
    inputs:
      name: {type: string, required: true}
      level: {type: string, required: true, default: info}
jobs:
  t:
    runs-on: nix
    steps:
      - run: echo "ran name=${{ inputs.name }} level=${{ inputs.level }}"
)Y");
    auto missing = runHostExec({"exec", "-W", "w.yml", "-E", "workflow_dispatch"}, dir.path());
    EXPECT_NE(missing.exit_code, 0);
    EXPECT_TRUE(has(missing.err, "workflow 'w.yml': Required input 'name' not provided; give it "
                                 "with --input name=VALUE"))
        << missing.err;
    EXPECT_FALSE(has(missing.out, "ran name")) << missing.out;
    auto undeclared = runHostExec({"exec", "-W", "w.yml", "-E", "workflow_dispatch", "--input",
                                   "name=x", "--input", "colour=red"},
                                  dir.path());
    EXPECT_NE(undeclared.exit_code, 0);
    EXPECT_TRUE(has(undeclared.err, "Unexpected inputs provided: [\"colour\"]")) << undeclared.err;
    auto good = runHostExec({"exec", "-W", "w.yml", "-E", "workflow_dispatch", "--input", "name=x"},
                            dir.path());
    EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
    EXPECT_TRUE(has(good.out, "ran name=x level=info")) << good.out;
}

TEST(ExecE2E, DebugLinesOnlyWithVerboseOrStepDebug) {
    TempDir dir;
    nixjail::base::writeFile(dir.path() / "w.yml",
                             "on: push\njobs:\n  j:\n    runs-on: nix\n    steps:\n      - run: echo '::debug::deep detail'\n");
    auto quiet = runHostExec({"exec", "-W", "w.yml"}, dir.path());
    EXPECT_FALSE(has(quiet.out, "Debug: deep detail")) << quiet.out;
    auto verbose = runHostExec({"exec", "-W", "w.yml", "--verbose"}, dir.path());
    EXPECT_TRUE(has(verbose.out, "Debug: deep detail")) << verbose.out;
    EXPECT_TRUE(has(verbose.out, "Debug: shell: bash -e ")) << verbose.out;
    auto secret = runHostExec({"exec", "-W", "w.yml", "--secret", "ACTIONS_STEP_DEBUG=true"}, dir.path());
    EXPECT_TRUE(has(secret.out, "Debug: deep detail")) << secret.out;
}

TEST(ExecE2E, NoWorkflowForTheEventIsAClearError) {
    auto r = runHostExec({"exec", "-W", (kWorkflows / "dispatch.yml").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(has(r.err, "no workflow is triggered by event 'push'")) << r.err;
}

TEST(ExecE2E, JobSelectionRunsTheJobAndWhatItNeeds) {
    auto r = runHostExec({"exec", "-W", (kWorkflows / "outputs.yml").string(), "-j", "produce"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "job produce"));
    EXPECT_FALSE(has(r.out, "job consume"));
    auto unknown = runHostExec({"exec", "-W", (kWorkflows / "outputs.yml").string(), "-j", "nope"});
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_TRUE(has(unknown.err, "no workflow has a job 'nope'"));
}

TEST(ExecE2E, MatrixFilterKeepsMatchingCombinations) {
    auto r = runHostExec({"exec", "-W", (kWorkflows / "outputs.yml").string(), "--matrix", "n:2"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "consume 2 got"));
    EXPECT_FALSE(has(r.out, "consume 1 got"));
}

TEST(ExecE2E, ListAndDryRunRunNothing) {
    auto list = runHostExec({"exec", "-W", (kWorkflows / "outputs.yml").string(), "--list"});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    EXPECT_TRUE(std::regex_search(list.out, std::regex("outputs.yml +consume +consume +produce +push,workflow_dispatch")))
        << list.out;
    auto dry = runHostExec({"exec", "-W", (kWorkflows / "outputs.yml").string(), "--dry-run"});
    ASSERT_EQ(dry.exit_code, 0) << dry.err;
    EXPECT_TRUE(has(dry.out, "job consume (3) (after produce)")) << dry.out;
    EXPECT_FALSE(has(dry.out, "got from-produce"));
}

TEST(ExecE2E, InvalidWorkflowsGiveFileLineAndColumn) {
    const fs::path inv = kSource / "tests/e2e/invalid";
    auto yaml = runHostExec({"exec", "-W", (inv / "bad_yaml.yml").string()});
    EXPECT_EQ(yaml.exit_code, 1);
    EXPECT_TRUE(std::regex_search(yaml.err, std::regex("bad_yaml.yml:[0-9]+:[0-9]+: invalid YAML"))) << yaml.err;
    auto cycle = runHostExec({"exec", "-W", (inv / "cycle.yml").string()});
    EXPECT_EQ(cycle.exit_code, 1);
    EXPECT_TRUE(has(cycle.err, "cycle")) << cycle.err;
    auto need = runHostExec({"exec", "-W", (inv / "unknown_need.yml").string()});
    EXPECT_TRUE(has(need.err, "needs unknown job 'biuld'; did you mean 'build'?")) << need.err;
    auto shell = runHostExec({"exec", "-W", (inv / "bad_shell.yml").string()});
    EXPECT_TRUE(std::regex_search(shell.err, std::regex("bad_shell.yml:6:9: unknown shell 'fish'"))) << shell.err;
}

TEST(ExecE2E, BadExpressionFailsTheRunBeforeAnyJob) {
    auto r = runHostExec({"exec", "-W", (kSource / "tests/e2e/invalid/bad_expression.yml").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(has(r.err, "bad_expression.yml:7:24: invalid expression in jobs.<job_id>.steps.run: "
                           "Too few parameters supplied: 'contains'"))
        << r.err;
    EXPECT_FALSE(has(r.out, "contains('a')")) << r.out;
}

// An invalid file fails the run as a whole (GitHub's "invalid workflow file"): no job starts,
// and --dry-run reports the same diagnostics.
TEST(ExecE2E, InvalidWorkflowRunsNothingAndDryRunReportsTheSameErrors) {
    const auto file = (kSource / "tests/e2e/invalid/unavailable_context.yml").string();
    auto r = runHostExec({"exec", "-W", file});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_FALSE(has(r.out + r.err, "marker-from-the-first-job")) << r.out << r.err;
    EXPECT_TRUE(has(r.err, "unavailable_context.yml:13:13: context 'secrets' is not available in "
                           "jobs.<job_id>.steps.if"))
        << r.err;
    EXPECT_TRUE(has(r.err, "unavailable_context.yml:14:24: invalid expression in "
                           "jobs.<job_id>.steps.run: Unrecognized named-value: 'foo'"))
        << r.err;
    EXPECT_TRUE(has(r.err, "unavailable_context.yml:15:9: duplicate key 'run'")) << r.err;
    auto dry = runHostExec({"exec", "-W", file, "--dry-run"});
    EXPECT_EQ(dry.exit_code, 1);
    EXPECT_EQ(dry.err, r.err);
    EXPECT_FALSE(has(dry.out, "job first")) << dry.out;
}

TEST(ExecE2E, BadFlagsAreReportedBriefly) {
    auto r = runHostExec({"exec", "--secret-file", "/nonexistent/secrets"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(has(r.err, "/nonexistent/secrets")) << r.err;
    auto bad = runHostExec({"exec", "--no-such-flag"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_TRUE(has(bad.err, "--no-such-flag")) << bad.err;
}

// A remote composite action fetched with git from a local "forge" directory.
TEST(ExecE2E, RemoteCompositeActionIsFetchedByGit) {
    TempDir forge("nixjail-forge-");
    const fs::path repo = forge.path() / "example/hello-action";
    fs::create_directories(repo / "sub");
    nixjail::base::writeFile(repo / "action.yml", R"Y(name: hello
inputs:
  name: {default: nobody}
outputs:
  said: {value: "${{ steps.s.outputs.said }}"}
runs:
  using: composite
  steps:
    - id: s
      shell: bash
      run: echo "said=hi ${{ inputs.name }} from $(basename "$GITHUB_ACTION_PATH")" >> "$GITHUB_OUTPUT"
)Y");
    nixjail::base::writeFile(repo / "sub/action.yml",
                             "name: sub\nruns:\n  using: composite\n  steps:\n    - shell: sh\n      run: echo sub-action-ran\n");
    auto git = [&](std::vector<std::string> a) {
        a.insert(a.begin(), {"git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"});
        auto c = ChildProcess::spawn({.argv = a, .env = baseEnv(), .cwd = repo});
        ASSERT_EQ(c.wait().exitCode(), 0);
    };
    git({"init", "-q"});
    git({"add", "."});
    git({"commit", "-qm", "action"});
    git({"tag", "v1"});
    TempDir cache("nixjail-action-cache-");
    auto r = runHostExec({"exec", "-W", (kWorkflows / "remote.yml").string(), "--default-actions-url",
                        "file://" + forge.path().string(), "--action-cache-dir", cache.path().string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "remote said hi e2e from example_hello-action@v1")) << r.out;
    EXPECT_TRUE(has(r.out, "sub-action-ran"));
    EXPECT_TRUE(fs::exists(cache.path() / "example/hello-action@v1/action.yml"));
    // A ref that does not exist is a clear failure naming the action.
    auto missing = runHostExec({"exec", "-W", (kWorkflows / "remote.yml").string(), "--default-actions-url",
                              "file:///nonexistent-forge", "--action-cache-dir", cache.path().string() + "/other"});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_TRUE(has(missing.out, "fetching action example/hello-action@v1")) << missing.out;
}

// actions/checkout of another repository goes through the git mirror and checkout cache.
TEST(ExecE2E, CheckoutOfAnotherRepositoryIsSparseAndCached) {
    TempDir forge("nixjail-forge-");
    const fs::path repo = forge.path() / "example/library";
    fs::create_directories(repo / "src");
    fs::create_directories(repo / "docs");
    nixjail::base::writeFile(repo / "src/lib.txt", "library source\n");
    nixjail::base::writeFile(repo / "docs/guide.txt", "guide\n");
    nixjail::base::writeFile(repo / "README.txt", "read me\n");
    auto git = [&](std::vector<std::string> a) {
        a.insert(a.begin(), {"git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"});
        auto c = ChildProcess::spawn({.argv = a, .env = baseEnv(), .cwd = repo});
        ASSERT_EQ(c.wait().exitCode(), 0);
    };
    git({"init", "-q"});
    git({"add", "."});
    git({"commit", "-qm", "first library commit"});
    nixjail::base::writeFile(repo / "src/lib.txt", "library source\n");
    nixjail::base::writeFile(repo / "docs/guide.txt", "guide, second edition\n");
    git({"commit", "-qam", "second library commit"});
    TempDir cache("nixjail-e2e-cache-");
    std::vector<std::string> args{"exec", "-W", (kWorkflows / "other_repo.yml").string(), "--server-url",
                                  "file://" + forge.path().string(), "--cache-dir", cache.path().string()};
    auto r = runHostExec(args);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "| library source")) << r.out;
    EXPECT_TRUE(has(r.out, "| docs left out"));
    // Cone mode keeps the root's files; the default depth gives a shallow .git.
    EXPECT_TRUE(has(r.out, "| top-level file kept")) << r.out;
    EXPECT_TRUE(has(r.out, "| shallow history"));
    EXPECT_TRUE(has(r.out, "| head is second library commit"));
    EXPECT_TRUE(has(r.out, "| first library commit"));
    EXPECT_TRUE(has(r.out, "| default branch checked out"));
    EXPECT_TRUE(has(r.out, "(fetched, depth 1) to '")) << r.out;
    auto again = runHostExec(args);
    ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_TRUE(has(again.out, "(cached, depth 1) to '")) << again.out;
}

// submodules: true checks out one level, recursive all, each through the checkout cache at its
// gitlink commit; relative URLs resolve against the superproject's.
TEST(ExecE2E, CheckoutWithSubmodules) {
    TempDir forge("nixjail-forge-");
    auto makeRepo = [&](const std::string& name, const std::vector<std::pair<std::string, std::string>>& files,
                        const std::vector<std::pair<std::string, std::string>>& gitlinks) {
        const fs::path repo = forge.path() / "example" / name;
        fs::create_directories(repo);
        for (const auto& [path, content] : files) nixjail::base::writeFile(repo / path, content);
        auto git = [&](std::vector<std::string> a) {
            a.insert(a.begin(), {"git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"});
            auto c = ChildProcess::spawn({.argv = a, .env = baseEnv(), .cwd = repo});
            EXPECT_EQ(c.wait().exitCode(), 0);
        };
        git({"init", "-q"});
        git({"add", "."});
        for (const auto& [path, commit] : gitlinks) git({"update-index", "--add", "--cacheinfo", "160000," + commit + "," + path});
        git({"commit", "-qm", name});
        return nixjail::base::readFile(repo / ".git/refs/heads/main").substr(0, 40);
    };
    const std::string deep = makeRepo("deep", {{"deep.txt", "deep content\n"}}, {});
    const std::string lib = makeRepo("lib", {{"lib.txt", "lib content\n"},
                                             {".gitmodules", "[submodule \"deep\"]\n\tpath = deep\n\turl = ../deep\n"}},
                                     {{"deep", deep}});
    makeRepo("app", {{"app.txt", "app\n"}, {".gitmodules", "[submodule \"lib\"]\n\tpath = vendor/lib\n\turl = ../lib\n"}},
             {{"vendor/lib", lib}});
    TempDir cache("nixjail-e2e-cache-");
    auto r = runHostExec({"exec", "-W", (kWorkflows / "submodules.yml").string(), "--server-url",
                        "file://" + forge.path().string(), "--cache-dir", cache.path().string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "| lib content")) << r.out;
    EXPECT_TRUE(has(r.out, "| deep content")) << r.out;
    EXPECT_TRUE(has(r.out, "| one level only")) << r.out;
    EXPECT_TRUE(has(r.out, "Checked out submodule vendor/lib (file://" + forge.path().string() + "/example/lib) at " + lib))
        << r.out;
}

TEST(ExecE2E, UnknownProfileOrExecutorIsAClearError) {
    auto profile = runHostExec({"exec", "-W", "examples/ci.yml", "--profile", "lenient"});
    EXPECT_EQ(profile.exit_code, 1);
    EXPECT_TRUE(has(profile.err, "unknown hardening profile 'lenient'; choose default or strict")) << profile.err;
    auto executor = runHostExec({"exec", "-W", "examples/ci.yml", "--executor", "docker"});
    EXPECT_EQ(executor.exit_code, 1);
    EXPECT_TRUE(has(executor.err, "unknown executor 'docker'")) << executor.err;
}

TEST(ExecE2E, CheckoutRejectsAnUnknownSubmodulesValue) {
    TempDir dir;
    nixjail::base::writeFile(dir.path() / "w.yml", R"(on: push
jobs:
  j:
    runs-on: nix
    steps:
      - uses: actions/checkout@v4
        with: {repository: example/app, submodules: sometimes}
)");
    auto r = runHostExec({"exec", "-W", "w.yml", "--server-url", "file:///nonexistent"}, dir.path());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_TRUE(has(r.out, "'submodules' is 'sometimes'; use true, false or recursive")) << r.out;
}

// SIGTERM cancels the run: the step's process tree is gone and the exit code says it failed.
TEST(ExecE2E, SigtermCancelsAndLeavesNoProcess) {
    TempDir tmp;
    auto outPath = tmp.path() / "out";
    nixjail::base::writeFile(outPath, "");
    nixjail::base::UniqueFd out(::open(outPath.c_str(), O_WRONLY | O_CLOEXEC));
    auto child = ChildProcess::spawn({.argv = {NIXJAIL_BINARY, "exec", "--executor", "host", "-W", (kWorkflows / "slow.yml").string()},
                                      .env = baseEnv(),
                                      .cwd = kSource,
                                      .stdout_fd = out.get(),
                                      .stderr_fd = out.get(),
                                      .new_session = false});
    std::smatch m;
    std::string text;
    const std::regex kPid("sleeping as ([0-9]+)");
    for (int i = 0; i < 1000 && !std::regex_search(text, m, kPid); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a file the runner writes
        text = nixjail::base::readFile(outPath);
    }
    ASSERT_TRUE(std::regex_search(text, m, kPid)) << text;
    const pid_t stepPid = std::stoi(m[1]);
    const auto start = std::chrono::steady_clock::now();
    ::kill(child.pid(), SIGTERM);
    auto st = child.wait();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    EXPECT_EQ(st.exitCode(), 1);
    text = nixjail::base::readFile(outPath);
    EXPECT_TRUE(std::regex_search(text, std::regex("sleeper +cancelled"))) << text;
    EXPECT_NE(::kill(stepPid, 0), 0) << "the step's shell survived the cancellation";
}

}  // namespace
