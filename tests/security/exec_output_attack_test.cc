// Attacks on the runner through a jailed step's output, through `exec` in the namespace jail
// (root, Nix): a flood without a newline must not grow the runner's memory, and a secret written
// in pieces (split writes, pauses, its encoded forms) must never reach the log or the summary.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <string>

#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "tests/e2e/e2e_run.h"

namespace {

using nixjail::base::TempDir;
using nixjail::e2e::has;

constexpr const char* kSecret = "split-secret-Q7v2x9";

constexpr const char* kWorkflow = R"Y(on: push
env:
  NIXJAIL_PACKAGES: bash coreutils
jobs:
  flood:
    runs-on: ubuntu-latest
    steps:
      # 1.5 GB in one line: held whole, it would take the runner's memory with it.
      - run: head -c 1500000000 /dev/zero | tr '\0' a; echo; echo flood-survived
  split:
    runs-on: ubuntu-latest
    steps:
      - env:
          S: ${{ secrets.SPLIT }}
        run: |
          printf '%s' "${S:0:5}"; sleep 0.3; printf '%s\n' "${S:5}"
          printf 'before %s' "${S:0:9}" >&2; sleep 0.2; printf '%s after\n' "${S:9}"
          b64=$(printf '%s' "$S" | base64 -w0); printf '%s' "${b64:0:7}"; sleep 0.2; printf '%s\n' "${b64:7}"
          head -c 1048570 /dev/zero | tr '\0' x; printf '%s' "${S:0:8}"; sleep 0.2; printf '%s tail\n' "${S:8}"
          echo "## ${S:0:3}""${S:3}" >> "$GITHUB_STEP_SUMMARY"
          echo split-done
)Y";

TEST(ExecOutputAttack, AFloodWithoutNewlineAndSplitSecretsLeaveTheRunnerWhole) {
    NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing());
    TempDir dir("nixjail-output-attack-");
    TempDir cache("nixjail-output-attack-cache-");
    nixjail::base::writeFile(dir.path() / "w.yml", kWorkflow);
    const auto summary = dir.path() / "summary.json";
    auto env = nixjail::e2e::baseEnv();
    env.push_back("NIX_CONFIG=sandbox = false\nsubstituters =");
    auto r = nixjail::e2e::runBinary(
        {"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
         (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir", cache.path().string(),
         "--secret", std::string("SPLIT=") + kSecret, "--json-summary", summary.string()},
        dir.path(), env);
    ASSERT_EQ(r.exit_code, 0) << r.out.substr(0, 4000) << r.err;
    EXPECT_TRUE(has(r.out, "flood-survived")) << r.out.substr(r.out.size() > 4000 ? r.out.size() - 4000 : 0);
    EXPECT_TRUE(has(r.out, "split-done"));
    // The runner (and whatever else this test ran) never held the flood: 1.5 GB in one string
    // would show here.
    struct rusage usage {};
    ::getrusage(RUSAGE_CHILDREN, &usage);
    EXPECT_LT(usage.ru_maxrss, 400L * 1024) << "largest child's peak RSS, KiB";
    // No piece of the secret that could only come from it, in any form.
    const std::string logs = r.out + r.err + nixjail::base::readFile(summary);
    for (const std::string& piece : {std::string(kSecret), std::string(kSecret).substr(5),
                                    std::string(kSecret).substr(9), std::string("c3BsaXQtc2VjcmV0LVE3djJ4OQ")}) {
        EXPECT_FALSE(has(logs, piece)) << piece;
    }
    EXPECT_TRUE(has(r.out, "before *** after")) << "stderr split across writes";
    EXPECT_TRUE(has(r.out, "*** tail")) << "a secret across the runner's one-line cap";
}

}  // namespace
