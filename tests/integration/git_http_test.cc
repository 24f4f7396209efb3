// Mirrors and checkouts over real smart HTTP: `git http-backend` behind basic auth on loopback.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "runner/base/child_process.h"
#include "runner/base/error.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"
#include "tests/integration/require.h"
#include "workspace-cache/checkout_cache.h"
#include "workspace-cache/git_test_repo.h"

namespace nixjail::cache {
namespace {

namespace fs = std::filesystem;

constexpr const char* kToken = "forge-token-1234";

class GitHttpTest : public ::testing::Test {
  protected:
    void SetUp() override {
        NIXJAIL_REQUIRE(::access("/usr/bin/python3", X_OK) == 0,
                        "needs /usr/bin/python3 for the git HTTP server");
        first_ =
            repo_.commit({{"README.md", "over http\n"}, {"app/main.py", "print(1)\n"}}, "first");
        // http-backend serves bare repositories by name; expose the work repo's .git as repo.git.
        fs::create_directory_symlink(repo_.dir() / ".git", tmp_.path() / "srv" / "repo.git");

        base::Pipe out = base::Pipe::create();
        base::SpawnOptions opts;
        opts.argv = {"/usr/bin/python3",
                     std::string(NIXJAIL_INTEGRATION_DIR) + "/git_http_server.py",
                     (tmp_.path() / "srv").string(), kToken};
        opts.env = {"PATH=/usr/bin:/bin", "HOME=/nonexistent", "GIT_CONFIG_NOSYSTEM=1"};
        opts.stdout_fd = out.write.get();
        server_ = base::ChildProcess::spawn(opts);
        out.write.reset();
        // The server prints its port once it is listening: that line is the readiness event.
        std::string port;
        char c;
        while (::read(out.read.get(), &c, 1) == 1 && c != '\n') port += c;
        ASSERT_FALSE(port.empty()) << "git HTTP server did not start";
        url_ = "http://127.0.0.1:" + port + "/repo.git";
    }
    void TearDown() override {
        if (server_.running()) {
            server_.killTree(SIGTERM);
            server_.wait();
        }
    }
    std::optional<GitCredentials> creds(const char* token) {
        GitCredentials c;
        c.token = base::Secret(token);
        return c;
    }

    base::TempDir tmp_{"nixjail-git-http-test-"};
    testing::GitTestRepo repo_{tmp_.path() / "srv" / "work"};
    std::string first_;
    base::ChildProcess server_;
    std::string url_;
    std::unique_ptr<Storage> storage_ = makeStorage(StorageKind::kCopy);
    GitMirrors mirrors_{tmp_.path() / "mirrors"};
    CheckoutCache cache_{*storage_, tmp_.path() / "checkouts", mirrors_};
};

TEST_F(GitHttpTest, FetchesWithTokenAndChecksOutSparse) {
    CheckoutResult r =
        cache_.checkout({url_, "main", {"app"}, creds(kToken)}, tmp_.path() / "job1");
    EXPECT_EQ(r.commit, first_);
    EXPECT_EQ(base::readFile(r.workspace.path() / "app" / "main.py"), "print(1)\n");
    EXPECT_FALSE(fs::exists(r.workspace.path() / "README.md"));
    std::string config = base::readFile(mirrors_.mirrorPath(url_) / "config");
    EXPECT_EQ(config.find(kToken), std::string::npos) << config;
    EXPECT_EQ(config.find("127.0.0.1"), std::string::npos) << config;

    CheckoutRequest with_git{url_, "main", {}, creds(kToken), GitDirRequest{.depth = 0}};
    CheckoutResult g = cache_.checkout(with_git, tmp_.path() / "job2");
    std::string ws_config = base::readFile(g.workspace.path() / ".git" / "config");
    EXPECT_NE(ws_config.find(url_), std::string::npos) << ws_config;
    EXPECT_EQ(ws_config.find(kToken), std::string::npos) << ws_config;
}

TEST_F(GitHttpTest, IncrementalFetchBringsNewCommits) {
    { CheckoutResult a = cache_.checkout({url_, first_, {}, creds(kToken)}, tmp_.path() / "a"); }
    std::string second = repo_.commit({{"app/main.py", "print(2)\n"}}, "second");
    CheckoutResult b = cache_.checkout({url_, second, {}, creds(kToken)}, tmp_.path() / "b");
    EXPECT_TRUE(b.fetched);
    EXPECT_EQ(base::readFile(b.workspace.path() / "app" / "main.py"), "print(2)\n");
    CheckoutResult again = cache_.checkout({url_, first_, {}, creds(kToken)}, tmp_.path() / "c");
    EXPECT_TRUE(again.hit);
    EXPECT_FALSE(again.fetched);
}

TEST_F(GitHttpTest, WrongOrMissingTokenFailsWithoutHanging) {
    for (auto c : {creds("wrong-token"), std::optional<GitCredentials>{}}) {
        try {
            mirrors_.fetch(url_, c);
            FAIL() << "fetch succeeded without the right token";
        } catch (const base::Error& e) {
            EXPECT_NE(std::string(e.what()).find("cannot fetch"), std::string::npos) << e.what();
            EXPECT_EQ(std::string(e.what()).find("wrong-token"), std::string::npos) << e.what();
        }
    }
    EXPECT_FALSE(mirrors_.isComplete(url_));
}

}  // namespace
}  // namespace nixjail::cache
