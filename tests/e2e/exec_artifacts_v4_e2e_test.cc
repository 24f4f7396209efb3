// End-to-end: the v4 artifact API of exec --artifact-server-path. One job uploads and a later job
// (needs:) downloads and compares: with the real @actions/artifact 2.x client (the library of
// upload-artifact@v4 / download-artifact@v4, from build/npm-artifact as .ci/test installs it, or
// NIXJAIL_NPM_ARTIFACT_MODULES) under the host executor, beside a v3 upload in the same run; with
// curl alone (no npm needed), under the host executor and in the namespace jail, where curl
// reaches the server only through the job's proxy.
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
using nixjail::e2e::kSource;
using nixjail::e2e::runBinary;
using nixjail::e2e::runHostExec;

using nixjail::e2e::has;

// The 16 characters after `marker`: the digests the workflows print.
std::string digestAfter(const std::string& out, const std::string& marker) {
    const auto at = out.find(marker);
    return at == std::string::npos ? "" : out.substr(at + marker.size(), 16);
}

// The curl workflow's checks, the same under both executors.
void expectCurlRun(const nixjail::e2e::Run& r, const fs::path& artifacts) {
    EXPECT_TRUE(has(r.out, "| token run 1 job exec")) << r.out;
    EXPECT_TRUE(has(r.out, "| tampered signature 403")) << r.out;
    const std::string uploaded = digestAfter(r.out, "| uploaded ");
    ASSERT_EQ(uploaded.size(), 16u) << r.out;
    EXPECT_EQ(digestAfter(r.out, "| listed digest "), uploaded) << r.out;
    EXPECT_EQ(digestAfter(r.out, "| downloaded "), uploaded) << r.out;
    EXPECT_TRUE(has(r.out, "| unknown name 404")) << r.out;
    // The blob as uploaded, at DIR/v4/<run id>/<name>.zip, and no staging left behind.
    EXPECT_TRUE(
        nixjail::base::readFile(artifacts / "v4" / "1" / "curl-v4.zip").starts_with("1\n2\n3\n"));
    EXPECT_FALSE(fs::exists(artifacts / "v4" / "1" / ".staging"));
    EXPECT_FALSE(has(r.out, "Bearer "));
}

// The real @actions/artifact 2.x client: NIXJAIL_NPM_ARTIFACT_MODULES, or where .ci/test puts it.
fs::path artifactModules() {
    const char* env = std::getenv("NIXJAIL_NPM_ARTIFACT_MODULES");
    return env ? fs::path(env) : kSource / "build/npm-artifact/node_modules";
}

// Why the real client is not there, or empty.
std::string artifactModulesMissing(const fs::path& modules) {
    if (fs::is_directory(modules / "@actions" / "artifact")) return {};
    return "needs @actions/artifact 2.x in " + modules.string() +
           " (npm install --prefix build/npm-artifact @actions/artifact@2.3.2, as .ci/test does) "
           "or NIXJAIL_NPM_ARTIFACT_MODULES";
}

#ifndef NIXJAIL_ARTIFACTS_V4_JAILED  // built twice: host tests (label unit), the jailed one (root)

TEST(ExecArtifactsV4E2E, TheRealV4ClientUploadsAndALaterJobDownloads) {
    const fs::path modules = artifactModules();
    NIXJAIL_E2E_REQUIRE(artifactModulesMissing(modules));
    const bool node =
        ::access("/usr/bin/node", X_OK) == 0 || ::access("/usr/local/bin/node", X_OK) == 0;
    NIXJAIL_E2E_REQUIRE(node ? "" : "needs node on PATH");
    TempDir tmp("nixjail-e2e-artifacts-v4-");
    const fs::path dir = tmp.path() / "artifacts";
    auto r = runHostExec({"exec", "-W", "tests/e2e/workflows/artifacts_v4.yml", "-j", "download",
                          "--artifact-server-path", dir.string(), "--env",
                          "NODE_PATH=" + modules.string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    // A 9 MiB incompressible file goes up as two 8 MiB blocks, then comes back byte for byte.
    EXPECT_TRUE(has(r.out, "| Uploaded bytes 8388608")) << r.out;
    EXPECT_TRUE(has(r.out, "successfully finalized")) << r.out;
    for (const char* file : {"big.bin", "notes.txt", "sub/dir/deep.txt"}) {
        const std::string marker = std::string("| file ") + file + " ";
        const auto first = r.out.find(marker);
        ASSERT_NE(first, std::string::npos) << file << r.out;
        const std::string uploaded = r.out.substr(first + marker.size(), 16);
        // The same digest again in the download job (after the upload job's lines).
        const auto again = r.out.find(marker + uploaded, r.out.find("downloaded id="));
        EXPECT_NE(again, std::string::npos) << file << r.out;
    }
    EXPECT_TRUE(has(r.out, "| listed v4-dist:")) << r.out;
    EXPECT_TRUE(has(r.out, "digestMismatch=false")) << r.out;
    EXPECT_TRUE(has(r.out, "| after deleting v4-scratch: v4-dist")) << r.out;
    EXPECT_TRUE(has(r.out, "| v3 uploaded")) << r.out;
    // v4: one zip per artifact; the deleted one is gone; v3 beside it in its own layout.
    EXPECT_TRUE(nixjail::base::readFile(dir / "v4" / "1" / "v4-dist.zip").starts_with("PK"));
    EXPECT_FALSE(fs::exists(dir / "v4" / "1" / "v4-scratch.zip"));
    EXPECT_EQ(nixjail::base::readFile(dir / "1" / "v3-dist" / "v3.txt"), "v3 ok\n");
    EXPECT_FALSE(has(r.out, "Bearer "));
}

TEST(ExecArtifactsV4E2E, CurlSpeaksTheV4ProtocolWithoutNpm) {
    TempDir tmp("nixjail-e2e-artifacts-v4-");
    const fs::path dir = tmp.path() / "artifacts";
    auto r = runHostExec({"exec", "-W", "tests/e2e/workflows/artifacts_v4_curl.yml", "-j",
                          "download", "--artifact-server-path", dir.string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "| upload url http://127.0.0.1:")) << r.out;
    expectCurlRun(r, dir);
}

#else

// In the jail, by the pinned name through the job's proxy: the curl workflow as it is.
TEST(ExecArtifactsV4E2E, JailedJobsUploadAndDownloadThroughTheProxy) {
    NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing());
    TempDir dir("nixjail-e2e-jail-");
    TempDir cache("nixjail-e2e-cache-");
    nixjail::base::writeFile(
        dir.path() / "w.yml",
        nixjail::base::readFile(kSource / "tests/e2e/workflows/artifacts_v4_curl.yml"));
    auto env = nixjail::e2e::nixEnv();
    const fs::path artifacts = dir.path() / "artifacts";
    auto r = runBinary({"exec", "-W", "w.yml", "-j", "download", "--executor", "namespace",
                        "--nixpkgs", (kSource / "examples/nix").string(), "--cache-dir",
                        cache.path().string(), "--artifact-server-path", artifacts.string()},
                       dir.path(), env);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "| upload url http://artifacts.nixjail.internal:")) << r.out;
    expectCurlRun(r, artifacts);
}

// The real @actions/artifact 2.x client in the jail: its http client tunnels http:// URLs through
// CONNECT (plain HTTP inside), and undici needs WebAssembly, which the default profile allows (no
// --profile given: published actions work unchanged). The action and its node_modules are copied
// into the job's repository, as a vendored JavaScript action would be.
TEST(ExecArtifactsV4E2E, TheRealV4ClientWorksInTheJailThroughTheProxy) {
    const fs::path modules = artifactModules();
    std::string why = nixjail::e2e::rootAndNixMissing();
    if (why.empty()) why = artifactModulesMissing(modules);
    NIXJAIL_E2E_REQUIRE(why);
    TempDir dir("nixjail-e2e-jail-");
    TempDir cache("nixjail-e2e-cache-");
    const fs::path action = dir.path() / "artifact-v4";
    fs::create_directories(action);
    for (const char* f : {"action.yml", "main.js"})
        fs::copy_file(kSource / "tests/e2e/actions/artifact-v4" / f, action / f);
    fs::copy(modules, action / "node_modules", fs::copy_options::recursive);
    nixjail::base::writeFile(dir.path() / "w.yml", R"Y(on: push
jobs:
  upload:
    runs-on: nix
    env: {NIXJAIL_PACKAGES: bash coreutils}
    steps:
      - uses: actions/checkout@v4
      - uses: ./artifact-v4
        with:
          mode: upload
  download:
    needs: upload
    runs-on: nix
    env: {NIXJAIL_PACKAGES: bash coreutils}
    steps:
      - uses: actions/checkout@v4
      - uses: ./artifact-v4
        with:
          mode: download
)Y");
    auto env = nixjail::e2e::nixEnv();
    const fs::path artifacts = dir.path() / "artifacts";
    // @actions/artifact 2.x refuses servers other than github.com and GHES-like names before any
    // request; the fixture's jobs say github.com (through github.server_url: as on GitHub, no env
    // overrides GITHUB_SERVER_URL).
    auto r = runBinary({"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
                        (kSource / "examples/nix").string(),
                        "--cache-dir", cache.path().string(), "--artifact-server-path",
                        artifacts.string(), "--server-url", "https://github.com"},
                       dir.path(), env);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "CONNECT artifacts.nixjail.internal") ||
                has(r.out, "POST artifacts.nixjail.internal:"))
        << r.out;
    EXPECT_TRUE(has(r.out, "successfully finalized")) << r.out;
    for (const char* file : {"big.bin", "notes.txt", "sub/dir/deep.txt"}) {
        const std::string marker = std::string("| file ") + file + " ";
        const auto first = r.out.find(marker);
        ASSERT_NE(first, std::string::npos) << file << r.out;
        const std::string uploaded = r.out.substr(first + marker.size(), 16);
        EXPECT_NE(r.out.find(marker + uploaded, r.out.find("downloaded id=")), std::string::npos)
            << file << r.out;
    }
    EXPECT_TRUE(nixjail::base::readFile(artifacts / "v4" / "1" / "v4-dist.zip").starts_with("PK"));
}

#endif

}  // namespace
