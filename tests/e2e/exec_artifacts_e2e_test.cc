// End-to-end: exec --artifact-server-path starts the local artifact server for the run; one job
// uploads an artifact with the v3 requests of @actions/artifact 1.x (a file in two chunks, a
// gzip-encoded file) and a later job lists and downloads it; with the host executor, and in the
// namespace jail where curl reaches the server only through the job's proxy.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "e2e_run.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using nixjail::base::TempDir;
using nixjail::e2e::runBinary;
using nixjail::e2e::runHostExec;

using nixjail::e2e::has;

// The digest the workflow prints: the first 16 hex digits of sha256 of `seq 1 5000`.
std::string digestAfter(const std::string& out, const std::string& marker) {
    const auto at = out.find(marker);
    return at == std::string::npos ? "" : out.substr(at + marker.size(), 16);
}

#ifndef NIXJAIL_ARTIFACTS_JAILED  // built twice: host tests (label unit), the jailed one (root)

TEST(ExecArtifactsE2E, OneJobUploadsAndALaterJobDownloads) {
    TempDir tmp("nixjail-e2e-artifacts-");
    const fs::path dir = tmp.path() / "artifacts";
    auto r = runHostExec({"exec", "-W", "tests/e2e/workflows/artifacts.yml", "-j", "download",
                          "--no-cache-server", "--artifact-server-path", dir.string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "container http://127.0.0.1:")) << r.out;
    const std::string uploaded = digestAfter(r.out, "| uploaded ");
    ASSERT_EQ(uploaded.size(), 16u) << r.out;
    EXPECT_TRUE(has(r.out, "| big " + uploaded)) << r.out;
    EXPECT_TRUE(has(r.out, "| gzip dist/small.txt")) << r.out;
    EXPECT_TRUE(has(r.out, "| small small file content")) << r.out;
    // On disk as uploaded: DIR/<run id>/<name>/<path>, the gzip-encoded file still gzipped.
    const fs::path run = dir / "1" / "dist";
    EXPECT_TRUE(nixjail::base::readFile(run / "sub" / "big.txt").starts_with("1\n2\n3\n"));
    EXPECT_TRUE(nixjail::base::readFile(run / "small.txt").starts_with("\x1f\x8b"));
    // The runtime token never shows in the log.
    EXPECT_FALSE(has(r.out, "Bearer "));
    // The next run into the same directory is run 2: its artifacts land beside run 1's.
    auto again = runHostExec({"exec", "-W", "tests/e2e/workflows/artifacts.yml", "-j", "upload",
                              "--no-cache-server", "--artifact-server-path", dir.string()});
    ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_TRUE(fs::is_regular_file(dir / "2" / "dist" / "sub" / "big.txt"));
    EXPECT_TRUE(fs::is_regular_file(run / "sub" / "big.txt")) << "run 1's artifact is kept";
}

TEST(ExecArtifactsE2E, WithoutTheFlagNoServerAndNoRuntimeUrl) {
    auto r = runHostExec({"exec", "-W", "tests/e2e/workflows/artifacts.yml", "-j", "no-server",
                          "--no-cache-server"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "runtime url is [unset]")) << r.out;
    auto help = runBinary({"exec", "--help"});
    EXPECT_TRUE(has(help.out, "--artifact-server-path")) << help.out;
    EXPECT_TRUE(has(help.out, "ACTIONS_RUNTIME_URL")) << help.out;
}

TEST(ExecArtifactsE2E, AnUnusableDirectoryFailsTheRunClearly) {
    TempDir tmp("nixjail-e2e-artifacts-");
    nixjail::base::writeFile(tmp.path() / "file", "");
    auto r = runHostExec({"exec", "-W", "tests/e2e/workflows/artifacts.yml", "-j", "no-server",
                          "--artifact-server-path", (tmp.path() / "file" / "sub").string()});
    EXPECT_NE(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.err, "artifact directory")) << r.err;
}

#else

#define REQUIRE_ROOT_AND_NIX() NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing())

// In the jail, by the pinned name through the job's proxy: curl uploads (two chunks) in one job
// and downloads in the next.
TEST(ExecArtifactsE2E, JailedJobsUploadAndDownloadThroughTheProxy) {
    REQUIRE_ROOT_AND_NIX();
    TempDir dir("nixjail-e2e-jail-");
    TempDir cache("nixjail-e2e-cache-");
    nixjail::base::writeFile(dir.path() / "w.yml", R"Y(on: push
jobs:
  upload:
    runs-on: nix
    env: {NIXJAIL_PACKAGES: bash coreutils curl gnused gnugrep}
    steps:
      - run: |
          api="${ACTIONS_RUNTIME_URL}_apis/pipelines/workflows/${GITHUB_RUN_ID}/artifacts"
          auth="Authorization: Bearer $ACTIONS_RUNTIME_TOKEN"
          seq 1 3000 > data
          size=$(stat -c %s data); half=$((size / 2))
          head -c "$half" data > p1; tail -c +"$((half + 1))" data > p2
          container=$(curl -sS --fail -H "$auth" -H "Content-Type: application/json" \
            -d '{"Type":"actions_storage","Name":"jailed"}' "$api?api-version=6.0-preview" \
            | sed -n 's/.*"fileContainerResourceUrl": *"\([^"]*\)".*/\1/p')
          echo "container $container"
          curl -sS --fail -X PUT -H "$auth" -H "Content-Range: bytes 0-$((half - 1))/$size" \
            --data-binary @p1 "$container?itemPath=jailed/data.txt" >/dev/null
          curl -sS --fail -X PUT -H "$auth" -H "Content-Range: bytes $half-$((size - 1))/$size" \
            --data-binary @p2 "$container?itemPath=jailed/data.txt" >/dev/null
          curl -sS --fail -X PATCH -H "$auth" -H "Content-Type: application/json" \
            -d "{\"Size\":$size}" "$api?artifactName=jailed" >/dev/null
          echo "uploaded $(sha256sum < data | cut -c1-16)"
  download:
    needs: upload
    runs-on: nix
    env: {NIXJAIL_PACKAGES: bash coreutils curl gnused gnugrep}
    steps:
      - run: |
          api="${ACTIONS_RUNTIME_URL}_apis/pipelines/workflows/${GITHUB_RUN_ID}/artifacts"
          auth="Authorization: Bearer $ACTIONS_RUNTIME_TOKEN"
          container=$(curl -sS --fail -H "$auth" "$api" \
            | sed -n 's/.*"fileContainerResourceUrl": *"\([^"]*\)".*/\1/p')
          location=$(curl -sS --fail -H "$auth" "$container?itemPath=jailed" \
            | sed -n 's/.*"contentLocation": *"\([^"]*\)".*/\1/p')
          echo "location $location"
          curl -sS --fail -H "$auth" -o data "$location"
          echo "downloaded $(sha256sum < data | cut -c1-16)"
)Y");
    const fs::path artifacts = dir.path() / "artifacts";
    auto r =
        runBinary({"exec", "-W", "w.yml", "-j", "download", "--executor", "namespace", "--nixpkgs",
                   (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir",
                   cache.path().string(), "--artifact-server-path", artifacts.string()},
                  dir.path(), nixjail::e2e::nixEnv());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "| container http://artifacts.nixjail.internal:")) << r.out;
    EXPECT_TRUE(has(r.out, "| location http://artifacts.nixjail.internal:")) << r.out;
    const std::string uploaded = digestAfter(r.out, "| uploaded ");
    ASSERT_EQ(uploaded.size(), 16u) << r.out;
    EXPECT_EQ(digestAfter(r.out, "| downloaded "), uploaded) << r.out;
    EXPECT_TRUE(fs::is_regular_file(artifacts / "1" / "jailed" / "data.txt"));
}

#endif

}  // namespace
