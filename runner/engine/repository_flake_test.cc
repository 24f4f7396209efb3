// A task repository's flake comes through the checkout cache: the whole tree at the task's
// commit (flake.nix may import other files), from a real git repository.
#include "runner/engine/repository_flake.h"

#include <gtest/gtest.h>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "workspace-cache/git_test_repo.h"

namespace nixjail::runner::engine {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

TEST(RepositoryOfTask, UrlIsServerAndRepositoryAtTheTaskCommit) {
    auto repo = repositoryOfTask(Json{{"server_url", "https://forge.example/"},
                                      {"repository", "owner/app"},
                                      {"sha", "0123456789abcdef0123456789abcdef01234567"},
                                      {"token", "t0k"}});
    ASSERT_TRUE(repo);
    EXPECT_EQ(repo->url, "https://forge.example/owner/app");
    EXPECT_EQ(repo->commit, "0123456789abcdef0123456789abcdef01234567");
    EXPECT_EQ(repo->token, "t0k");
    auto tokenless =
        repositoryOfTask(Json{{"server_url", "https://f"}, {"repository", "o/r"}, {"sha", "abc"}});
    ASSERT_TRUE(tokenless);
    EXPECT_EQ(tokenless->token, std::nullopt);
    EXPECT_FALSE(repositoryOfTask(Json{{"server_url", "https://f"}, {"repository", "o/r"}}));
    EXPECT_FALSE(repositoryOfTask(Json{{"repository", "o/r"}, {"sha", "abc"}}));
    EXPECT_FALSE(repositoryOfTask(Json::array()));
}

class RepositoryFlakeTest : public ::testing::Test {
  protected:
    RepositoryFlakeTest()
        : remote_(dir_.path() / "forge" / "owner" / "app"), checkouts_(dir_.path() / "cache") {}
    RepositoryAtCommit at(const std::string& commit) {
        return *repositoryOfTask(Json{{"server_url", "file://" + (dir_.path() / "forge").string()},
                                      {"repository", "owner/app"},
                                      {"sha", commit}});
    }
    base::TempDir dir_{"nixjail-repo-flake-"};
    cache::testing::GitTestRepo remote_;
    CachedCheckouts checkouts_;
};

TEST_F(RepositoryFlakeTest, ChecksOutTheFlakesTreeAtTheCommit) {
    const std::string first = remote_.commit({{"flake.nix", "{ outputs = _: { }; }\n"},
                                              {"flake.lock", "{}\n"},
                                              {"src/main.c", "int x;\n"}},
                                             "1");
    remote_.commit({{"flake.nix", "{ outputs = _: { later = 1; }; }\n"}}, "2");
    const fs::path dst = dir_.path() / "job" / "root-flake";
    fs::create_directories(dst.parent_path());
    auto lease = checkOutFlake(checkouts_.asProvider(), at(first), dst);
    ASSERT_TRUE(lease);
    EXPECT_EQ(lease->commit(), first);
    EXPECT_EQ(base::readFile(dst / "flake.nix"),
              "{ outputs = _: { }; }\n");  // the task's commit, not main
    EXPECT_EQ(base::readFile(dst / "flake.lock"), "{}\n");
    EXPECT_EQ(base::readFile(dst / "src" / "main.c"), "int x;\n");
    lease.reset();
    EXPECT_FALSE(fs::exists(dst));
}

TEST_F(RepositoryFlakeTest, FlakeWithoutLockFileIsFine) {
    const std::string commit =
        remote_.commit({{"flake.nix", "{ outputs = _: { }; }\n"}, {"README", "r\n"}}, "1");
    const fs::path dst = dir_.path() / "flake";
    auto lease = checkOutFlake(checkouts_.asProvider(), at(commit), dst);
    ASSERT_TRUE(lease);
    EXPECT_TRUE(fs::exists(dst / "flake.nix"));
    EXPECT_FALSE(fs::exists(dst / "flake.lock"));
    EXPECT_TRUE(fs::exists(dst / "README"));
}

TEST_F(RepositoryFlakeTest, NoFlakeNixGivesNothingAndLeavesNothing) {
    const std::string commit = remote_.commit({{"README", "r\n"}}, "1");
    const fs::path dst = dir_.path() / "flake";
    EXPECT_EQ(checkOutFlake(checkouts_.asProvider(), at(commit), dst), nullptr);
    EXPECT_FALSE(fs::exists(dst));
}

TEST_F(RepositoryFlakeTest, UnknownCommitFailsNamingRepositoryAndWhatToDo) {
    remote_.commit({{"flake.nix", "{ outputs = _: { }; }\n"}}, "1");
    try {
        checkOutFlake(checkouts_.asProvider(), at("0123456789abcdef0123456789abcdef01234567"),
                      dir_.path() / "f");
        FAIL() << "an unknown commit was checked out";
    } catch (const base::Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(
            msg.find(
                "cannot fetch flake.nix of 'file://" + (dir_.path() / "forge").string() +
                "/owner/app' at 0123456789abcdef0123456789abcdef01234567 for the job's devShell"),
            std::string::npos)
            << msg;
        EXPECT_NE(msg.find("declare the job's packages instead"), std::string::npos) << msg;
    }
}

}  // namespace
}  // namespace nixjail::runner::engine
