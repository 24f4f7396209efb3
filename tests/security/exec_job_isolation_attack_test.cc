// Jobs of one run, side by side in their namespace jails (exec --max-parallel 2, root, Nix): one
// job leaves a secret file in its workspace, $HOME, /tmp and its environment and waits; the other
// looks for it everywhere a job could reach another (its own /proc's processes, their roots, cwds
// and environments, the file system) while the first still runs. Nothing of the first is found.
#include <gtest/gtest.h>

#include <string>

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

}  // namespace
