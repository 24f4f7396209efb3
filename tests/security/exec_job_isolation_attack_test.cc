// Jobs of one run, side by side in their namespace jails (exec --max-parallel 2, root, Nix): one
// job leaves a secret file in its workspace, $HOME, /tmp and its environment and waits; the other
// looks for it everywhere a job could reach another (its own /proc's processes, their roots, cwds
// and environments, the file system) while the first still runs. Nothing of the first is found.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "runner/base/child_process.h"
#include "runner/base/unique_fd.h"

#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "tests/e2e/e2e_run.h"

namespace {

using nixjail::base::TempDir;
using nixjail::e2e::has;

constexpr const char* kWorkflow = R"Y(on: push
env:
  NIXJAIL_PACKAGES: bash coreutils
jobs:
  holder:
    runs-on: ubuntu-latest
    env:
      HOLDER_MARK: holder-env-Zk41
    steps:
      - run: |
          echo holder-file-Zk41 > "$GITHUB_WORKSPACE/mark.txt"
          echo holder-home-Zk41 > "$HOME/mark.txt"
          echo holder-tmp-Zk41 > /tmp/mark.txt
          echo holder-ready
          sleep 8
          cat "$GITHUB_WORKSPACE/mark.txt"
  seeker:
    runs-on: ubuntu-latest
    steps:
      - run: |
          sleep 3
          echo "pids: $(ls /proc | tr '\n' ' ' | tr -cd '0-9 ')"
          found=""
          for f in /proc/[0-9]*/root/workspace/mark.txt /proc/[0-9]*/cwd/mark.txt \
                   /proc/[0-9]*/root/home/runner/mark.txt /proc/[0-9]*/root/tmp/mark.txt \
                   /proc/[0-9]*/environ /workspace/mark.txt /home/runner/mark.txt /tmp/mark.txt; do
            c=$(cat "$f" 2>/dev/null | tr '\0' '\n')
            case "$c" in *Zk41*) found="$found $f";; esac
          done
          for d in / /runner /runner/temp /workspace /home /home/runner; do
            echo "listing $d: $(ls -a "$d" 2>&1 | tr '\n' ' ')"
          done
          echo "found:[${found}]"
)Y";

TEST(ExecJobIsolationAttack, AJobFindsNothingOfAnotherJobRunningBesideIt) {
    NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing());
    TempDir dir("nixjail-isolation-attack-");
    TempDir cache("nixjail-isolation-attack-cache-");
    nixjail::base::writeFile(dir.path() / "w.yml", kWorkflow);
    auto env = nixjail::e2e::baseEnv();
    env.push_back("NIX_CONFIG=sandbox = false\nsubstituters =");
    auto r = nixjail::e2e::runBinary(
        {"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
         (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir", cache.path().string(),
         "--max-parallel", "2"},
        dir.path(), env);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    // The two ran at the same time: the holder was still waiting when the seeker looked.
    const auto ready = r.out.find("holder-ready");
    const auto found = r.out.find("found:[");
    ASSERT_NE(ready, std::string::npos) << r.out;
    ASSERT_NE(found, std::string::npos) << r.out;
    EXPECT_TRUE(has(r.out, "found:[]")) << r.out;
    EXPECT_FALSE(has(r.out, "listing /workspace: . .. mark.txt")) << r.out;
    // The holder's own file was intact after the seeker's search.
    EXPECT_TRUE(has(r.out, "holder-file-Zk41")) << r.out;
}

// Processes a step hides from cancellation (ignoring TERM, HUP and INT, double-forked into the
// background, renamed) must not outlive the job when exec is interrupted mid-step.
constexpr const char* kSurvivorWorkflow = R"Y(on: push
env:
  NIXJAIL_PACKAGES: bash coreutils
jobs:
  hide:
    runs-on: ubuntu-latest
    steps:
      - run: |
          trap '' TERM HUP INT
          ( ( trap '' TERM HUP INT; exec -a nixjail-survivor-Kq7 sleep 600 ) & )
          ( trap '' TERM HUP INT; exec -a nixjail-survivor-Kq7 sleep 600 ) &
          echo survivor-ready
          sleep 600
)Y";

int processesNamed(const std::string& marker) {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        const std::string name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string cmdline;
        try {
            cmdline = nixjail::base::readFile(e.path() / "cmdline");
        } catch (...) {
            continue;
        }
        if (cmdline.find(marker) != std::string::npos) ++n;
    }
    return n;
}

TEST(ExecJobIsolationAttack, ProcessesHiddenFromCancellationDieWithTheJob) {
    NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing());
    TempDir dir("nixjail-survivor-attack-");
    TempDir cache("nixjail-survivor-attack-cache-");
    nixjail::base::writeFile(dir.path() / "w.yml", kSurvivorWorkflow);
    const auto outPath = dir.path() / "out";
    nixjail::base::writeFile(outPath, "");
    nixjail::base::UniqueFd out(::open(outPath.c_str(), O_WRONLY | O_CLOEXEC));
    auto env = nixjail::e2e::baseEnv();
    env.push_back("NIX_CONFIG=sandbox = false\nsubstituters =");
    auto child = nixjail::base::ChildProcess::spawn(
        {.argv = {NIXJAIL_BINARY, "exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
                  (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir", cache.path().string()},
         .env = env,
         .cwd = dir.path(),
         .stdout_fd = out.get(),
         .stderr_fd = out.get()});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    while (!has(nixjail::base::readFile(outPath), "survivor-ready") && std::chrono::steady_clock::now() < deadline &&
           !child.tryWait()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(has(nixjail::base::readFile(outPath), "survivor-ready")) << nixjail::base::readFile(outPath);
    EXPECT_EQ(processesNamed("nixjail-survivor-Kq7"), 2) << "the step's hidden processes run";
    ASSERT_EQ(::kill(child.pid(), SIGINT), 0);
    const auto status = child.wait();
    EXPECT_NE(status.exitCode(), 0) << nixjail::base::readFile(outPath);
    EXPECT_EQ(processesNamed("nixjail-survivor-Kq7"), 0) << "a process hidden by the step survived the cancelled job";
}

}  // namespace
