// The artifact server and the Nix store attacked from a real workflow step through `exec` (root,
// Nix): artifact names and item paths that climb out of --artifact-server-path, an upload beyond
// --artifact-server-budget, and writes into the job's /nix/store (read-only in the jail, with no
// Nix daemon socket to add paths through). A file planted beside the artifact directory must be
// neither overwritten nor served, and the host's store must not gain the job's paths.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "tests/e2e/e2e_run.h"

namespace {

namespace fs = std::filesystem;
using nixjail::base::TempDir;
using nixjail::e2e::has;

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
    for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size())
        text.replace(at, from.size(), to);
    return text;
}

constexpr const char* kWorkflow = R"Y(on: push
env:
  NIXJAIL_PACKAGES: bash coreutils curl
jobs:
  artifacts:
    runs-on: ubuntu-latest
    steps:
      - run: |
          try() {
            label=$1; shift
            code=$(curl -sS -o body -w '%{http_code}' -H "Authorization: Bearer $ACTIONS_RUNTIME_TOKEN" "$@")
            echo "RESULT $label $code $(head -c 400 body)"
          }
          U="${ACTIONS_RUNTIME_URL}upload/$GITHUB_RUN_ID"
          W="${ACTIONS_RUNTIME_URL}_apis/pipelines/workflows/$GITHUB_RUN_ID/artifacts"
          json=(-H 'Content-Type: application/json')
          try create-dotdot -X POST "${json[@]}" -d '{"Type":"actions_storage","Name":"../../plant"}' "$W"
          try create-ok -X POST "${json[@]}" -d '{"Type":"actions_storage","Name":"ok"}' "$W"
          try put-dotdot -X PUT --data-binary OVERWRITTEN "$U?itemPath=ok/../../../plant/victim.txt"
          try put-encoded -X PUT --data-binary OVERWRITTEN "$U?itemPath=ok%2F..%2F..%2F..%2Fplant%2Fvictim.txt"
          try put-absolute -X PUT --data-binary OVERWRITTEN "$U?itemPath=PLANT/victim.txt"
          try put-backslash -X PUT --data-binary OVERWRITTEN "$U?itemPath=ok%5C..%5C..%5Cplant%5Cvictim.txt"
          try get-dotdot --path-as-is "${ACTIONS_RUNTIME_URL}artifact/$GITHUB_RUN_ID/ok/../../../plant/secret.txt"
          head -c 3145728 /dev/zero > big
          try put-big -X PUT --data-binary @big "$U?itemPath=ok/big"
          try put-small -X PUT --data-binary small "$U?itemPath=ok/small"
          try finalize -X PATCH "${json[@]}" -d '{"Size":5}' "$W?artifactName=ok"
  store:
    runs-on: ubuntu-latest
    steps:
      - run: |
          touch /nix/store/nixjail-evil-TAG 2>&1 || echo "STORE-TOUCH-REFUSED"
          mkdir /nix/store/nixjail-evil-dir-TAG 2>&1 || echo "STORE-MKDIR-REFUSED"
          bash_path=$(readlink -f "$(command -v bash)")
          echo evil >> "${bash_path%/bin/bash}/nixjail-evil-TAG" 2>&1 || echo "STORE-PATH-WRITE-REFUSED"
          head -c 1048576 /dev/zero > "$bash_path" 2>&1 || echo "STORE-BINARY-WRITE-REFUSED"
          test -e /nix/var/nix/daemon-socket/socket && echo "DAEMON-SOCKET-VISIBLE" || echo "NO-DAEMON-SOCKET"
          command -v nix-store > /dev/null && echo "NIX-STORE-PRESENT" || echo "NO-NIX-STORE"
)Y";

TEST(ExecStorageAttack, ArtifactPathsAndTheStoreCannotBeUsedToReachOrFillTheHost) {
    NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing());
    const std::string tag = std::to_string(std::random_device{}());
    TempDir top("nixjail-attack-storage-");
    ::chmod(top.path().c_str(), 0755);
    const fs::path plant = top.path() / "plant";
    fs::create_directories(plant);
    const std::string secret = "PLANTED-SECRET-" + tag;
    nixjail::base::writeFile(plant / "secret.txt", secret + "\n");
    nixjail::base::writeFile(plant / "victim.txt", "host file\n");
    const fs::path artifacts = top.path() / "artifacts";

    TempDir dir("nixjail-attack-repo-");
    TempDir cache("nixjail-attack-cache-");
    std::string workflow = replaceAll(kWorkflow, "TAG", tag);
    workflow = replaceAll(workflow, "itemPath=PLANT", "itemPath=" + plant.string());
    nixjail::base::writeFile(dir.path() / "w.yml", workflow);
    auto env = nixjail::e2e::baseEnv();
    env.push_back("NIX_CONFIG=sandbox = false\nsubstituters =");
    auto r = nixjail::e2e::runBinary(
        {"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
         (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir", cache.path().string(),
         "--artifact-server-path", artifacts.string(), "--artifact-server-budget", "2M"},
        dir.path(), env);
    const std::string& log = r.out;
    ASSERT_TRUE(has(log, "RESULT finalize")) << log << r.err;
    EXPECT_TRUE(has(log, "STORE-TOUCH-REFUSED")) << log << r.err;

    // Traversal: refused with the reason, from a real step through the job's proxy.
    EXPECT_TRUE(has(log, "RESULT create-dotdot 400 {\"message\":\"bad artifact name '../../plant'"))
        << log;
    EXPECT_TRUE(has(log, "RESULT create-ok 200")) << log;
    for (const char* p : {"put-dotdot", "put-encoded", "put-absolute", "put-backslash"})
        EXPECT_TRUE(has(log, std::string("RESULT ") + p + " 400 {\"message\":\"bad itemPath"))
            << p << log;
    EXPECT_TRUE(has(log, "RESULT get-dotdot 400 {\"message\":\"bad itemPath")) << log;
    // The budget: 3 MiB do not fit in 2M; a small file still does, and the artifact that lost a
    // file is refused rather than published without it.
    EXPECT_TRUE(has(log, "RESULT put-big 413")) << log;
    EXPECT_TRUE(has(log, "beyond the artifact budget of 2097152 bytes")) << log;
    EXPECT_TRUE(has(log, "RESULT put-small 200")) << log;
    EXPECT_TRUE(has(log, "RESULT finalize 409")) << log;
    EXPECT_TRUE(has(log, "is incomplete: storing 'big' failed at byte 0")) << log;
    EXPECT_FALSE(has(log, secret)) << log;
    EXPECT_EQ(nixjail::base::readFile(plant / "victim.txt"), "host file\n");
    EXPECT_EQ(nixjail::base::readFile(plant / "secret.txt"), secret + "\n");
    for (const auto& e : fs::recursive_directory_iterator(top.path())) {
        const std::string p = e.path().string();
        EXPECT_TRUE(p.starts_with(plant.string()) || p.starts_with(artifacts.string())) << p;
        if (e.is_regular_file()) {
            EXPECT_LE(e.file_size(), 2u << 20) << p;
        }
    }

    // The store: read-only, no daemon to add paths through, no nix-store in the closure.
    EXPECT_TRUE(has(log, "STORE-MKDIR-REFUSED")) << log;
    EXPECT_TRUE(has(log, "STORE-PATH-WRITE-REFUSED")) << log;
    EXPECT_TRUE(has(log, "STORE-BINARY-WRITE-REFUSED")) << log;
    EXPECT_TRUE(has(log, "Read-only file system")) << log;
    EXPECT_TRUE(has(log, "NO-DAEMON-SOCKET")) << log;
    EXPECT_TRUE(has(log, "NO-NIX-STORE")) << log;
    EXPECT_FALSE(fs::exists("/nix/store/nixjail-evil-" + tag));
    EXPECT_FALSE(fs::exists("/nix/store/nixjail-evil-dir-" + tag));
}

}  // namespace
