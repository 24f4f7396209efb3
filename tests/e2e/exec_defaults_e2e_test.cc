// `nixjail-runner exec` in an ordinary repository (runs-on: ubuntu-latest, no packages declared,
// no actions/checkout) with no flags: nixpkgs from NIX_PATH (here the test package set with every
// attribute of the default set), the label's default packages, the working tree in the workspace,
// every job in the namespace jail. Needs root and Nix.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "e2e_run.h"
#include "runner/base/child_process.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using nixjail::base::TempDir;
using nixjail::e2e::has;
using nixjail::e2e::kSource;
using nixjail::e2e::runBinary;

const fs::path kPackageSet = kSource / "tests/fixtures/nix-ubuntu-base";

size_t count(const std::string& text, const std::string& part) {
    size_t n = 0;
    for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
}

class ExecDefaultsE2E : public ::testing::Test {
  protected:
    void SetUp() override {
        NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing());
        // The user's saved defaults keep the roots out of /var/cache: no flag is needed for that.
        fs::create_directories(home_.path() / ".config/nixjail-runner");
        nixjail::base::writeFile(home_.path() / ".config/nixjail-runner/config.yaml",
                                 "cache_dir: " + (home_.path() / "cache").string() + "\n");
        // No global flake registry: a machine with network access would fetch nixpkgs from it.
        nixjail::base::writeFile(home_.path() / "registry.json", R"({"flakes": [], "version": 2})");
    }

    // A fresh git repository holding only `workflow` as .github/workflows/ci.yml, the local action
    // and an ignored file.
    fs::path makeRepository(const std::string& workflow) {
        const fs::path repo = home_.path() / "repo";
        fs::create_directories(repo / ".github/workflows");
        fs::copy_file(kSource / "tests/e2e/workflows" / workflow, repo / ".github/workflows/ci.yml");
        fs::create_directories(repo / "local-action");
        fs::copy_file(kSource / "tests/e2e/actions/local-composite/action.yml", repo / "local-action/action.yml");
        nixjail::base::writeFile(repo / ".gitignore", "ignored.txt\n");
        nixjail::base::writeFile(repo / "ignored.txt", "not in the workspace\n");
        for (std::vector<std::string> args : {std::vector<std::string>{"init", "-q"}, {"add", "."},
                                              {"commit", "-qm", "ordinary repository"}}) {
            args.insert(args.begin(), {"git", "-c", "user.name=t", "-c", "user.email=t@t"});
            auto git = nixjail::base::ChildProcess::spawn({.argv = args, .env = env({}), .cwd = repo});
            EXPECT_EQ(git.wait().exitCode(), 0);
        }
        return repo;
    }

    std::vector<std::string> env(const std::vector<std::string>& extra) const {
        std::vector<std::string> out;
        for (auto& e : nixjail::e2e::baseEnv()) {
            if (e.rfind("HOME=", 0) != 0) out.push_back(e);
        }
        out.push_back("HOME=" + home_.path().string());
        out.push_back("NIX_CONFIG=sandbox = false\nsubstituters =\nflake-registry = " +
                      (home_.path() / "registry.json").string());
        out.insert(out.end(), extra.begin(), extra.end());
        return out;
    }
    std::vector<std::string> withNixPath() const { return env({"NIX_PATH=nixpkgs=" + kPackageSet.string()}); }

    TempDir home_{"nixjail-e2e-defaults-"};
};

TEST_F(ExecDefaultsE2E, AnOrdinaryWorkflowRunsInTheJailWithNoFlags) {
    const auto repo = makeRepository("ordinary.yml");
    const auto r = runBinary({"exec"}, repo, withNixPath());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.err, "packages come from '" + kPackageSet.string() +
                               "' (<nixpkgs> in Nix's search path (NIX_PATH))"))
        << r.err;
    // The job log says which set each job got and why.
    EXPECT_TRUE(has(r.out, " from the default packages of runs-on label 'ubuntu-latest' (as 'ubuntu-*'): bash "
                           "coreutils findutils"))
        << r.out;
    EXPECT_TRUE(has(r.out, "Job root: built from the default packages")) << "the jobs share one root\n" << r.out;
    EXPECT_TRUE(has(r.out, "(the job declares no packages and the repository has no flake devShell)")) << r.out;
    EXPECT_TRUE(has(r.out, "runs-on label 'ubuntu-22.04'")) << "runs-on: ${{ matrix.os }} is evaluated\n" << r.out;
    EXPECT_TRUE(has(r.out, "running as ubuntu-20.04")) << r.out;
    EXPECT_TRUE(has(r.out, "Workspace: a copy of the working tree '" + repo.string() + "'")) << r.out;
    EXPECT_TRUE(has(r.out, "Network: the job's own namespace")) << "in the jail\n" << r.out;
    for (const char* line : {"| hello", "| git version", "| curl ", "| jq", "| sed works", "| awk works",
                             "| ./.github/workflows/ci.yml", "| archived 1 workflow",
                             "| from the local action, in the workspace", "| python3 step failure"}) {
        EXPECT_TRUE(has(r.out, line)) << line << "\n" << r.out;
    }
    // python3 is not in the default set: said by name, with the package to declare.
    EXPECT_TRUE(has(r.out, "python3: not in this job's root; declare a package that provides it, e.g. python3"))
        << r.out;
    EXPECT_FALSE(has(r.out, "No such file or directory")) << r.out;

    // A second run finds every root in the cache (the user's cache_dir).
    const auto again = runBinary({"exec"}, repo, withNixPath());
    ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_TRUE(has(again.out, "Job root: cached from the default packages")) << again.out;
    EXPECT_TRUE(fs::exists(home_.path() / "cache/roots"));
}

TEST_F(ExecDefaultsE2E, ALabelWithoutADefaultSetFailsNamingItUntilTheRepositoryMapsIt) {
    const auto repo = makeRepository("no_default_set.yml");
    const auto r = runBinary({"exec"}, repo, withNixPath());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "its runs-on label 'macos-latest' has no default package set")) << r.out;
    EXPECT_TRUE(has(r.out, "`default_packages: {macos-latest: [bash, coreutils]}` in .nixjail-runner.yaml")) << r.out;

    nixjail::base::writeFile(repo / ".nixjail-runner.yaml",
                             "default_packages:\n  macos-latest: [bash, coreutils]\nexecutor: host\n");
    const auto mapped = runBinary({"exec"}, repo, withNixPath());
    ASSERT_EQ(mapped.exit_code, 0) << mapped.out << mapped.err;
    EXPECT_TRUE(has(mapped.out, "Job root: built from the default packages of runs-on label 'macos-latest': bash "
                                "coreutils"))
        << mapped.out;
    EXPECT_TRUE(has(mapped.out, "| mapped by the repository")) << mapped.out;
    // The repository may not take its jobs out of the jail.
    EXPECT_TRUE(has(mapped.err, "'executor' is ignored in a repository's file")) << mapped.err;
    EXPECT_TRUE(has(mapped.out, "Network: the job's own namespace")) << mapped.out;
}

TEST_F(ExecDefaultsE2E, NixpkgsIsFoundTheUsualWaysOrOneErrorBeforeAnyJob) {
    const auto repo = makeRepository("hello_ubuntu.yml");
    // Nowhere: one error, before any job starts.
    const auto none = runBinary({"exec"}, repo, env({}));
    EXPECT_EQ(none.exit_code, 1) << none.out << none.err;
    EXPECT_EQ(count(none.err, "no nixpkgs to build the jobs' packages from"), 1u) << none.err;
    EXPECT_TRUE(has(none.err, "NIX_PATH=nixpkgs=")) << none.err;
    EXPECT_FALSE(has(none.out, "job hello")) << none.out;

    // --nixpkgs '<nixpkgs>' is a lookup path, as Nix reads it (it was made a relative path).
    const auto lookup = runBinary({"exec", "--nixpkgs", "<nixpkgs>"}, repo, withNixPath());
    ASSERT_EQ(lookup.exit_code, 0) << lookup.out << lookup.err;
    EXPECT_TRUE(has(lookup.out, "| hello")) << lookup.out;

    // The flake registry's nixpkgs, when NIX_PATH has none: a user registry entry for a flake
    // whose default.nix is the test package set.
    const fs::path flake = home_.path() / "nixpkgs-flake";
    fs::create_directories(flake);
    nixjail::base::writeFile(flake / "flake.nix", "{ outputs = { self }: { }; }\n");
    nixjail::base::writeFile(flake / "default.nix", "import " + kPackageSet.string() + "\n");
    fs::create_directories(home_.path() / ".config/nix");
    nixjail::base::writeFile(home_.path() / ".config/nix/registry.json",
                             R"({"version": 2, "flakes": [{"from": {"type": "indirect", "id": "nixpkgs"},
                                 "to": {"type": "path", "path": ")" +
                                 flake.string() + R"("}}]})");
    const auto registry = runBinary({"exec"}, repo, env({}));
    ASSERT_EQ(registry.exit_code, 0) << registry.out << registry.err;
    EXPECT_TRUE(has(registry.err, "(the flake registry's nixpkgs (path:" + flake.string())) << registry.err;
    EXPECT_TRUE(has(registry.out, "| hello")) << registry.out;
}

}  // namespace
