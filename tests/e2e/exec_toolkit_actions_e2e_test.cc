// End-to-end in the default jail (the namespace executor, no --profile): JavaScript actions made
// the way published actions are. Their sources (tests/e2e/actions/toolkit) import the real toolkit
// libraries from npm (@actions/core, @actions/github with undici, @actions/http-client,
// @actions/cache: build/npm-toolkit as .ci/test installs it, or NIXJAIL_NPM_TOOLKIT_MODULES), are
// bundled by esbuild into one file each under dist/ (example/toolkit as CommonJS, as ncc bundles;
// example/toolkit-cache as an ES module), and are fetched from a local git forge. The workflow is
// tests/e2e/workflows/toolkit_actions.yml. Needs root, Nix and node.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "e2e_run.h"
#include "runner/base/child_process.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using nixjail::base::ChildProcess;
using nixjail::base::TempDir;
using nixjail::e2e::has;
using nixjail::e2e::kSource;

// The toolkit libraries and esbuild: NIXJAIL_NPM_TOOLKIT_MODULES, or where .ci/test puts them.
fs::path toolkitModules() {
    const char* env = std::getenv("NIXJAIL_NPM_TOOLKIT_MODULES");
    return env ? fs::path(env) : kSource / "build/npm-toolkit/node_modules";
}

// Why this machine cannot run the test, or empty.
std::string missingPrerequisite(const fs::path& modules) {
    std::string why = nixjail::e2e::rootAndNixMissing();
    if (!why.empty()) return why;
    if (::access("/usr/bin/node", X_OK) != 0 && ::access("/usr/local/bin/node", X_OK) != 0)
        return "examples/nix builds its nodejs package from /usr/local/bin/node or /usr/bin/node, "
               "both missing";
    for (const char* package : {"@actions/core", "@actions/github", "@actions/http-client",
                                "@actions/cache", ".bin/esbuild"}) {
        if (!fs::exists(modules / package))
            return "needs " + std::string(package) + " in " + modules.string() +
                   " (npm install --prefix build/npm-toolkit, as .ci/test does) or "
                   "NIXJAIL_NPM_TOOLKIT_MODULES";
    }
    return {};
}

// Runs argv in cwd and returns its exit code; its output goes to the test's.
int runTool(std::vector<std::string> argv, const fs::path& cwd, std::vector<std::string> env) {
    return ChildProcess::spawn({.argv = std::move(argv), .env = std::move(env), .cwd = cwd})
        .wait()
        .exitCode();
}

// How a publisher bundles: ncc-style CommonJS, or an ES module (with `require` made for the
// CommonJS dependencies: the usual banner of ESM bundles for node) beside package.json's
// "type": "module".
enum class BundleFormat { kCommonJs, kEsm };

// A fixture repository as a publisher would push it: tests/e2e/actions/<name> with each
// src/<entry>.mjs bundled into dist/<entry>.js, committed and tagged v1 in forge/example/<name>.
void publishAction(const fs::path& forge, const fs::path& modules, const std::string& name,
                   const std::vector<std::string>& entries, BundleFormat format) {
    const fs::path repo = forge / "example" / name;
    fs::create_directories(repo);
    fs::copy(kSource / "tests/e2e/actions" / name, repo, fs::copy_options::recursive);
    auto env = nixjail::e2e::baseEnv();
    env.push_back("NODE_PATH=" + modules.string());
    for (const std::string& entry : entries) {
        std::vector<std::string> esbuild{(modules / ".bin/esbuild").string(),
                                         "--bundle",
                                         "--platform=node",
                                         "--target=node20",
                                         "--log-level=warning",
                                         "--outfile=dist/" + entry + ".js",
                                         "src/" + entry + ".mjs"};
        if (format == BundleFormat::kEsm) {
            esbuild.insert(
                esbuild.end(),
                {"--format=esm",
                 "--banner:js=import { createRequire as bundleCreateRequire } from "
                 "'node:module'; const require = bundleCreateRequire(import.meta.url);"});
        }
        ASSERT_EQ(runTool(esbuild, repo, env), 0)
            << "esbuild failed on " << name << "/src/" << entry;
    }
    for (std::vector<std::string> git : {std::vector<std::string>{"init", "-q"},
                                         {"add", "."},
                                         {"commit", "-qm", "fixture actions, bundled"},
                                         {"tag", "v1"}}) {
        git.insert(git.begin(), {"git", "-c", "user.name=t", "-c", "user.email=t@t", "-c",
                                 "init.defaultBranch=main"});
        ASSERT_EQ(runTool(git, repo, nixjail::e2e::baseEnv()), 0) << git[7] << " in " << name;
    }
}

TEST(ExecToolkitActionsE2E, BundledToolkitActionsRunInTheDefaultJail) {
    const fs::path modules = toolkitModules();
    NIXJAIL_E2E_REQUIRE(missingPrerequisite(modules));
    TempDir forge("nixjail-forge-");
    publishAction(forge.path(), modules, "toolkit", {"index", "post", "http", "wasm", "pre", "legacy"},
                  BundleFormat::kCommonJs);
    if (HasFatalFailure()) return;
    publishAction(forge.path(), modules, "toolkit-cache", {"save", "restore"}, BundleFormat::kEsm);
    if (HasFatalFailure()) return;

    TempDir dir("nixjail-e2e-toolkit-");
    TempDir cache("nixjail-e2e-cache-");
    nixjail::base::writeFile(
        dir.path() / "w.yml",
        nixjail::base::readFile(kSource / "tests/e2e/workflows/toolkit_actions.yml"));
    auto env = nixjail::e2e::nixEnv();
    const fs::path summary = dir.path() / "summary.json";
    auto r = nixjail::e2e::runBinary(
        {"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
         (kSource / "examples/nix").string(), "--cache-dir", cache.path().string(),
         "--default-actions-url", "file://" + forge.path().string(), "--action-cache-dir",
         (cache.path() / "actions").string(), "--json-summary", summary.string()},
        dir.path(), env);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    // V8 may compile: the default profile does not make node run --jitless.
    EXPECT_FALSE(has(r.out, "Node runs with --jitless")) << r.out;

    // @actions/core and @actions/github: what the later run: step sees, the context as the runner
    // set it, the state in the post step, and undici's fetch (llhttp: WebAssembly) via the proxy.
    EXPECT_TRUE(has(r.out, "output [hello jail]")) << r.out;
    EXPECT_TRUE(has(r.out, "env [exported for jail]")) << r.out;
    EXPECT_TRUE(has(r.out, "path has /toolkit/added/bin")) << r.out;
    const std::string marker = "| runner context ";
    const auto at = r.out.find(marker);
    ASSERT_NE(at, std::string::npos) << r.out;
    const auto from = at + marker.size();
    const std::string context = r.out.substr(from, r.out.find('\n', from) - from);
    EXPECT_TRUE(has(context, "event=push")) << context;
    EXPECT_TRUE(has(r.out, "| context " + context)) << r.out;
    EXPECT_TRUE(has(r.out, "octokit status=401 message=missing or unknown bearer token")) << r.out;
    EXPECT_TRUE(has(r.out, "post state=state for jail")) << r.out;

    // @actions/http-client to the cache server by its pinned name, through the proxy.
    EXPECT_TRUE(has(r.out, "http-client anonymous status=401")) << r.out;
    EXPECT_TRUE(has(r.out, "http-client authorized status=204")) << r.out;
    EXPECT_TRUE(has(r.out, "statuses [401,204]")) << r.out;

    // WebAssembly directly.
    EXPECT_TRUE(has(r.out, "wasm add(19, 23) = 42")) << r.out;
    EXPECT_TRUE(has(r.out, "sum [42]")) << r.out;

    // A node12 action runs on the current node with GitHub's warning; its pre step (pre-if true)
    // runs at job start, before the job's first step (whose context line comes from main), and
    // hands its state to main.
    EXPECT_TRUE(has(r.out, "The following actions use node12, which is deprecated")) << r.out;
    const auto pre = r.out.find("legacy pre ran at job start on node ");
    const auto firstStep = r.out.find("context repo=");
    ASSERT_NE(pre, std::string::npos) << r.out;
    ASSERT_NE(firstStep, std::string::npos) << r.out;
    EXPECT_LT(pre, firstStep) << r.out;
    EXPECT_TRUE(has(r.out, "Pre Run example/toolkit/legacy@v1")) << r.out;
    EXPECT_TRUE(has(r.out, "legacy main ran, pre saved [set up early]")) << r.out;

    // @actions/cache: saved by one job, restored by a later one through the restore-key prefix.
    EXPECT_TRUE(has(r.out, "cache saved key=toolkit-cache-saved")) << r.out;
    EXPECT_TRUE(has(r.out, "allowed PATCH actions-cache.nixjail.internal:")) << r.out;
    const std::string payload = "payload from the save job";
    EXPECT_TRUE(has(r.out, "cache restored key=toolkit-cache-saved payload=" + payload)) << r.out;
    EXPECT_TRUE(has(r.out, "matched [toolkit-cache-saved]")) << r.out;
    EXPECT_TRUE(has(r.out, "restored file [" + payload + "]")) << r.out;

    const auto jobs =
        nlohmann::json::parse(nixjail::base::readFile(summary)).at("workflows").at(0).at("jobs");
    for (const auto& job : jobs) {
        EXPECT_EQ(job.at("result"), "success") << job;
        if (job.at("id") != "toolkit") continue;
        EXPECT_EQ(job.at("outputs").at("greeting"), "hello jail") << job;
        EXPECT_EQ(job.at("outputs").at("sum"), "42") << job;
        EXPECT_TRUE(has(job.value("step_summary", ""), "<h1>Toolkit fixture</h1>")) << job;
        EXPECT_TRUE(has(job.value("step_summary", ""), "summary for jail")) << job;
    }
    EXPECT_EQ(jobs.size(), 3u);
}

}  // namespace
