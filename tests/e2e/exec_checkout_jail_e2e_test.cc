// actions/checkout as GitHub's leaves a workspace, seen by git inside the namespace jail: a
// shallow .git at the default depth, the whole history and its tags with fetch-depth: 0, and in
// exec the workflow's own repository at a tag or an older commit, or sparse in cone mode, from the
// local repository's commits; and persist-credentials, whose header holds the job's dummy token
// that only the proxy turns into the real one. Needs root and Nix.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "e2e_run.h"
#include "runner/base/base64.h"
#include "runner/base/child_process.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"

namespace {

namespace fs = std::filesystem;
using nixjail::base::ChildProcess;
using nixjail::base::TempDir;
using nixjail::e2e::has;

// Runs git in `dir`; returns its first output line.
std::string git(const fs::path& dir, std::vector<std::string> args) {
    const fs::path out = dir.parent_path() / (dir.filename().string() + ".git-out");
    std::string line = "git -c user.name=t -c user.email=t@t -c init.defaultBranch=main";
    for (const auto& a : args) line += " '" + a + "'";
    auto c = ChildProcess::spawn(
        {.argv = {"sh", "-c", line + " > '" + out.string() + "'"}, .env = nixjail::e2e::baseEnv(), .cwd = dir});
    EXPECT_EQ(c.wait().exitCode(), 0) << line;
    std::string text = nixjail::base::readFile(out);
    fs::remove(out);
    return text.substr(0, text.find('\n'));
}

std::string commitAll(const fs::path& dir, const std::string& message) {
    git(dir, {"add", "-A"});
    git(dir, {"commit", "-qm", message});
    return git(dir, {"rev-parse", "HEAD"});
}

// example/library on a local "forge": a repository whose lib.txt holds each of `contents` in turn,
// one commit each ("library <content>"), tagged `tag` at the first when given; returns its path.
fs::path makeLibrary(const fs::path& forge, const std::vector<std::string>& contents,
                     const std::string& tag = "") {
    const fs::path library = forge / "example/library";
    fs::create_directories(library);
    git(library, {"init", "-q"});
    for (const auto& content : contents) {
        nixjail::base::writeFile(library / "lib.txt", content + "\n");
        commitAll(library, "library " + content);
        if (!tag.empty() && content == contents.front())
            git(library, {"tag", "-a", tag, "-m", "first release"});
    }
    return library;
}

TEST(ExecCheckoutJailE2E, CheckoutsAreRepositoriesAsOnGitHub) {
    NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing());
    auto env = nixjail::e2e::nixEnv();

    // Another repository on a local "forge": two commits, a tag on the first.
    TempDir forge("nixjail-forge-");
    const fs::path library = makeLibrary(forge.path(), {"one", "two"}, "lib-v1");
    const std::string libraryHead = git(library, {"rev-parse", "HEAD"});

    // The workflow's own repository: exec's working tree, with history, a tag and an uncommitted
    // change that checkouts of its commits must not see.
    TempDir work("nixjail-e2e-checkout-jail-");
    const fs::path repo = work.path() / "app";
    fs::create_directories(repo / "src");
    fs::create_directories(repo / "docs");
    git(repo, {"init", "-q"});
    nixjail::base::writeFile(repo / "version.txt", "1\n");
    nixjail::base::writeFile(repo / "README.md", "app\n");
    nixjail::base::writeFile(repo / "src/code.txt", "code\n");
    nixjail::base::writeFile(repo / "docs/guide.md", "guide\n");
    const std::string first = commitAll(repo, "app one");
    git(repo, {"tag", "v1"});
    nixjail::base::writeFile(repo / "version.txt", "2\n");
    commitAll(repo, "app two");
    nixjail::base::writeFile(repo / "version.txt", "3\n");
    commitAll(repo, "app three");
    nixjail::base::writeFile(repo / "version.txt", "uncommitted\n");
    nixjail::base::writeFile(repo / "w.yml", R"Y(on: push
jobs:
  checkouts:
    runs-on: nix
    env: {NIXJAIL_PACKAGES: bash coreutils git}
    steps:
      - uses: actions/checkout@v4
        with: {ref: v1, path: tagged}
      - run: echo "tagged $(cat tagged/version.txt) $(git -C tagged describe --tags)"
      - uses: actions/checkout@v4
        with: {ref: FIRST, path: older}
      - run: echo "older $(cat older/version.txt) $(git -C older rev-parse HEAD)"
      - uses: actions/checkout@v4
        with:
          path: sparse
          sparse-checkout: src
      - run: |
          test -f sparse/README.md && echo "sparse keeps README"
          test -f sparse/src/code.txt && echo "sparse keeps src"
          test ! -e sparse/docs && echo "sparse drops docs"
          echo "sparse version $(cat sparse/version.txt), list $(git -C sparse sparse-checkout list)"
          echo "sparse changes $(git -C sparse status --porcelain | wc -l)"
      - uses: actions/checkout@v4
        with: {repository: example/library, path: library}
      - run: |
          echo "library head $(git -C library rev-parse HEAD) shallow $(git -C library rev-parse --is-shallow-repository)"
          git -C library log -1 --format='library last %s'
          echo "library commits $(git -C library rev-list --count HEAD) tags [$(git -C library tag)]"
      - uses: actions/checkout@v4
        with: {repository: example/library, path: library-full, fetch-depth: 0}
      - run: echo "library described $(git -C library-full describe --tags)"
)Y");
    {
        std::string yml = nixjail::base::readFile(repo / "w.yml");
        yml.replace(yml.find("FIRST"), 5, first);
        nixjail::base::writeFile(repo / "w.yml", yml);
    }
    TempDir cache("nixjail-e2e-cache-");
    auto r = nixjail::e2e::runBinary(
        {"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
         (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir", cache.path().string(),
         "--server-url", "file://" + forge.path().string()},
        repo, env);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "from the local repository '" + repo.string() + "'")) << r.out;
    EXPECT_TRUE(has(r.out, "| tagged 1 v1")) << r.out;
    EXPECT_TRUE(has(r.out, "| older 1 " + first)) << r.out;
    EXPECT_TRUE(has(r.out, "| sparse keeps README")) << r.out;
    EXPECT_TRUE(has(r.out, "| sparse keeps src")) << r.out;
    EXPECT_TRUE(has(r.out, "| sparse drops docs")) << r.out;
    EXPECT_TRUE(has(r.out, "| sparse version 3, list src")) << r.out;
    EXPECT_TRUE(has(r.out, "| sparse changes 0")) << r.out;
    EXPECT_TRUE(has(r.out, "| library head " + libraryHead + " shallow true")) << r.out;
    EXPECT_TRUE(has(r.out, "| library last library two")) << r.out;
    EXPECT_TRUE(has(r.out, "| library commits 1 tags []")) << r.out;
    EXPECT_TRUE(has(r.out, "| library described lib-v1-1-g" + libraryHead.substr(0, 7))) << r.out;
}

// A forge that wants its token (tests/integration/git_http_server.py: git http-backend behind
// basic auth). A checkout of another of its repositories uses github.token by default, and
// persist-credentials leaves an extraheader with the dummy the job was given: that header, sent
// from the jail through the proxy, is accepted because the proxy puts the real token in; the real token
// is nowhere in the workspace.
TEST(ExecCheckoutJailE2E, PersistedCredentialsWorkThroughTheProxyWithTheDummyOnly) {
    NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing());
    auto env = nixjail::e2e::nixEnv();

    TempDir forge("nixjail-forge-");
    makeLibrary(forge.path(), {"one", "two", "three"});
    const std::string realToken = "real-forge-token-7351";
    nixjail::base::Pipe out = nixjail::base::Pipe::create();
    auto server = ChildProcess::spawn(
        {.argv = {"/usr/bin/python3",
                  (nixjail::e2e::kSource / "tests/integration/git_http_server.py").string(),
                  forge.path().string(), realToken},
         .env = nixjail::e2e::baseEnv(),
         .stdout_fd = out.write.get()});
    out.write.reset();
    std::string port;
    for (char c; ::read(out.read.get(), &c, 1) == 1 && c != '\n';) port += c;
    ASSERT_FALSE(port.empty()) << "git HTTP server did not start";
    struct Stop {
        ChildProcess& server;
        ~Stop() {
            server.killTree(SIGTERM);
            server.wait();
        }
    } stop{server};
    const std::string forgeUrl = "http://127.0.0.1:" + port;

    TempDir work("nixjail-e2e-checkout-creds-");
    const fs::path repo = work.path() / "app";
    fs::create_directories(repo);
    git(repo, {"init", "-q"});
    nixjail::base::writeFile(repo / "w.yml", R"Y(on: push
jobs:
  creds:
    runs-on: nix
    env: {NIXJAIL_PACKAGES: bash coreutils git gnugrep curl}
    steps:
      - uses: actions/checkout@v4
        with: {repository: example/library, path: library}
      - run: |
          echo "persisted $(git -C library config --get-regexp 'extraheader')"
          # The fixture's git has no HTTP transport helper: curl sends the header git would send.
          header=$(git -C library config --get "http.${{ github.server_url }}/.extraheader")
          status=$(curl -s -o /dev/null -w '%{http_code}' -H "$header" \
            "${{ github.server_url }}/example/library/info/refs?service=git-upload-pack")
          echo "with the persisted header: $status"
          status=$(curl -s -o /dev/null -w '%{http_code}' \
            "${{ github.server_url }}/example/library/info/refs?service=git-upload-pack")
          echo "without it: $status"
          grep -rl "$REAL_IN_BASE64" library/.git || echo "no real token in .git"
        env:
          REAL_IN_BASE64: REAL_B64
      - uses: actions/checkout@v4
        with: {repository: example/library, path: plain, persist-credentials: false}
      - run: git -C plain config --get-regexp 'extraheader' || echo "plain has no extraheader"
)Y");
    {
        // What the job must not find: the header the real token would make.
        std::string yml = nixjail::base::readFile(repo / "w.yml");
        yml.replace(yml.find("REAL_B64"), 8,
                    nixjail::base::base64Encode("x-access-token:" + realToken));
        nixjail::base::writeFile(repo / "w.yml", yml);
    }
    commitAll(repo, "workflow");
    TempDir cache("nixjail-e2e-cache-");
    auto r = nixjail::e2e::runBinary(
        {"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
         (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir", cache.path().string(),
         "--server-url", forgeUrl, "-s", "GITHUB_TOKEN=" + realToken},
        repo, env);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_FALSE(has(r.out, realToken)) << r.out;
    // The header holds the dummy (its base64), not the real token.
    const std::string marker = "persisted http." + forgeUrl + "/.extraheader AUTHORIZATION: basic ";
    const auto at = r.out.find(marker);
    ASSERT_NE(at, std::string::npos) << r.out;
    const std::string header = r.out.substr(at + marker.size(), r.out.find('\n', at) - at - marker.size());
    const std::string decoded = nixjail::base::base64Decode(header).value_or("");
    EXPECT_TRUE(decoded.starts_with("x-access-token:")) << decoded;
    EXPECT_FALSE(has(decoded, realToken)) << decoded;
    EXPECT_GT(decoded.size(), std::string("x-access-token:").size()) << decoded;
    // The forge accepts the dummy's header only because the proxy put the real token in.
    EXPECT_TRUE(has(r.out, "| with the persisted header: 200")) << r.out;
    EXPECT_TRUE(has(r.out, "| without it: 401")) << r.out;
    EXPECT_TRUE(has(r.out, "| no real token in .git")) << r.out;
    EXPECT_TRUE(has(r.out, "| plain has no extraheader")) << r.out;
}

}  // namespace
