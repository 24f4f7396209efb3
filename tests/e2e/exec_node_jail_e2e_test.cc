// End-to-end in the namespace jail: a job that declares only bash and coreutils still runs a
// JavaScript action, because the runner adds the node package (examples/nix's "nodejs") to its
// root when the job starts; the remote action's files are read-only to the step. Needs root and
// Nix.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "e2e_run.h"
#include "runner/base/child_process.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using nixjail::base::ChildProcess;
using nixjail::base::TempDir;

using nixjail::e2e::has;

// Why this machine cannot run the jail tests, or empty.
std::string missingPrerequisite() {
    std::string why = nixjail::e2e::rootAndNixMissing();
    if (why.empty() && ::access("/usr/bin/node", X_OK) != 0 &&
        ::access("/usr/local/bin/node", X_OK) != 0)
        why = "examples/nix builds its nodejs package from /usr/local/bin/node or /usr/bin/node, "
              "both missing";
    return why;
}

#define REQUIRE_JAIL_AND_NODE() NIXJAIL_E2E_REQUIRE(missingPrerequisite())

TEST(ExecNodeJailE2E, JobWithoutNodeRunsAJavaScriptActionInTheJail) {
    REQUIRE_JAIL_AND_NODE();
    auto env = nixjail::e2e::nixEnv();

    // A remote node action with pre, main and post, fetched from a local git "forge".
    TempDir forge("nixjail-forge-");
    const fs::path repo = forge.path() / "example/node-action";
    fs::create_directories(repo);
    nixjail::base::writeFile(repo / "action.yml", R"Y(name: jailed node
inputs:
  name: {default: "${{ github.job }}"}
outputs:
  said: {description: what main said}
runs:
  using: node20
  pre: pre.js
  main: main.js
  post: post.js
)Y");
    nixjail::base::writeFile(
        repo / "pre.js",
        "require('fs').appendFileSync(process.env.GITHUB_STATE, 'from=pre\\n');\n");
    nixjail::base::writeFile(repo / "main.js", R"JS(const fs = require('fs');
let writable = true;
try { fs.writeFileSync(__dirname + '/written-by-step', 'x'); } catch (e) { writable = false; }
const wasm = typeof WebAssembly === 'object' &&
    WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
console.log(`jailed main ${process.version} node=${process.execPath} action-writable=${writable} wasm=${wasm}`);
fs.appendFileSync(process.env.GITHUB_OUTPUT, `said=hi ${process.env.INPUT_NAME}\n`);
fs.appendFileSync(process.env.GITHUB_STATE, `name=${process.env.INPUT_NAME}\n`);
)JS");
    nixjail::base::writeFile(repo / "post.js",
                             "console.log(`jailed post name=${process.env.STATE_name} "
                             "from=${process.env.STATE_from}`);\n");
    auto git = [&](std::vector<std::string> a) {
        a.insert(a.begin(), {"git", "-c", "user.name=t", "-c", "user.email=t@t", "-c",
                             "init.defaultBranch=main"});
        auto c = ChildProcess::spawn({.argv = a, .env = nixjail::e2e::baseEnv(), .cwd = repo});
        ASSERT_EQ(c.wait().exitCode(), 0);
    };
    git({"init", "-q"});
    git({"add", "."});
    git({"commit", "-qm", "node action"});
    git({"tag", "v1"});

    TempDir dir("nixjail-e2e-node-jail-");
    TempDir cache("nixjail-e2e-cache-");
    nixjail::base::writeFile(dir.path() / "w.yml", R"Y(on: push
jobs:
  jailed:
    runs-on: nix
    env: {NIXJAIL_PACKAGES: bash coreutils}
    steps:
      - id: node
        uses: example/node-action@v1
      - run: echo "main said ${{ steps.node.outputs.said }}"
)Y");
    auto r = nixjail::e2e::runBinary(
        {"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
         (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir", cache.path().string(),
         "--default-actions-url", "file://" + forge.path().string(), "--action-cache-dir",
         (cache.path() / "actions").string()},
        dir.path(), env);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "The job uses JavaScript actions: adding 'nodejs' to its root"))
        << r.out;
    EXPECT_TRUE(has(r.out, "jailed main v")) << r.out;
    // The default profile lets V8 compile: no --jitless, WebAssembly works (undici needs it).
    EXPECT_FALSE(has(r.out, "Node runs with --jitless")) << r.out;
    EXPECT_TRUE(has(r.out, "wasm=true")) << r.out;
    EXPECT_TRUE(has(r.out, "node=/nix/store/")) << r.out;
    EXPECT_TRUE(has(r.out, "action-writable=false")) << r.out;
    EXPECT_TRUE(has(r.out, "main said hi jailed")) << r.out;
    EXPECT_TRUE(has(r.out, "jailed post name=jailed from=pre")) << r.out;
    EXPECT_TRUE(has(r.out, "Post Run example/node-action@v1")) << r.out;
}

// The strict profile forbids W+X memory: node runs --jitless, an action that needs WebAssembly
// fails, and the runner names the profile that would let it run.
TEST(ExecNodeJailE2E, StrictProfileNamesTheDefaultProfileWhenWebAssemblyIsMissing) {
    REQUIRE_JAIL_AND_NODE();
    auto env = nixjail::e2e::nixEnv();
    TempDir dir("nixjail-e2e-node-jail-");
    TempDir cache("nixjail-e2e-cache-");
    fs::create_directories(dir.path() / "act");
    nixjail::base::writeFile(dir.path() / "act/action.yml",
                             "name: a\nruns:\n  using: node20\n  main: main.js\n");
    nixjail::base::writeFile(dir.path() / "act/main.js",
                             "new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));\n");
    nixjail::base::writeFile(
        dir.path() / "w.yml",
        "on: push\njobs:\n  j:\n    runs-on: nix\n    env: {NIXJAIL_PACKAGES: bash coreutils}\n"
        "    steps:\n      - uses: actions/checkout@v4\n      - uses: ./act\n");
    auto r = nixjail::e2e::runBinary(
        {"exec", "-W", "w.yml", "--executor", "namespace", "--profile", "strict", "--nixpkgs",
         (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir", cache.path().string()},
        dir.path(), env);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "Node runs with --jitless")) << r.out;
    EXPECT_TRUE(has(r.out, "ReferenceError: WebAssembly is not defined")) << r.out;
    EXPECT_TRUE(has(r.out, "which the strict hardening profile forbids; run the job under the "
                           "default profile"))
        << r.out;
}

// A package set without the node package: the job fails before it starts, naming the package.
TEST(ExecNodeJailE2E, MissingNodePackageIsAClearError) {
    REQUIRE_JAIL_AND_NODE();
    auto env = nixjail::e2e::nixEnv();
    TempDir dir("nixjail-e2e-node-jail-");
    TempDir cache("nixjail-e2e-cache-");
    fs::create_directories(dir.path() / "act");
    nixjail::base::writeFile(dir.path() / "act/action.yml",
                             "name: a\nruns:\n  using: node20\n  main: main.js\n");
    nixjail::base::writeFile(dir.path() / "act/main.js", "console.log('ran');\n");
    nixjail::base::writeFile(
        dir.path() / "w.yml",
        "on: push\njobs:\n  j:\n    runs-on: nix\n    env: {NIXJAIL_PACKAGES: bash coreutils}\n"
        "    steps:\n      - uses: actions/checkout@v4\n      - uses: ./act\n");
    auto r = nixjail::e2e::runBinary({"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
                                      (nixjail::e2e::kSource / "tests/fixtures/nix").string(),
                                      "--cache-dir", cache.path().string()},
                                     dir.path(), env);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    // The local action is found in the working tree before the root is built.
    EXPECT_TRUE(has(r.out, "The job uses JavaScript actions: adding 'nodejs' to its root"))
        << r.out;
    // The declared packages build; the one added for the action is named on its own.
    EXPECT_TRUE(has(r.out, "cannot build packages 'nodejs' from nixpkgs")) << r.out;
}

}  // namespace
