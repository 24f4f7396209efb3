// The plain-files reader of HEAD and origin answers as libgit2 does for the layouts it reads, and
// leaves the others to libgit2.
#include "runner/cli/git_facts.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "workspace-cache/command_output.h"

namespace nixjail::runner::cli {
namespace {

namespace fs = std::filesystem;

class GitFactsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (std::system("command -v git >/dev/null 2>&1") != 0) GTEST_SKIP() << "needs git";
        fs::create_directories(home_);
        ::setenv("HOME", home_.c_str(), 1);  // no user config with rewrites
    }
    void TearDown() override {
        if (old_home_) ::setenv("HOME", old_home_->c_str(), 1);
    }
    void git(const fs::path& dir, const std::string& args) {
        const auto r = cache::runCommand(
            {"/bin/sh", "-c", "cd '" + dir.string() + "' && git -c init.defaultBranch=main " + args},
            {"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t",
             "GIT_COMMITTER_EMAIL=t@t", "GIT_CONFIG_NOSYSTEM=1"});
        ASSERT_EQ(r.exit_code, 0) << args << ": " << r.err;
    }
    // Both readers on `dir`; the files reader must answer and agree.
    GitFacts agreed(const fs::path& dir) {
        const auto plain = readGitFactsFromFiles(dir);
        EXPECT_TRUE(plain.has_value()) << dir;
        const auto lib = readGitFactsWithLibgit2(dir);
        EXPECT_EQ(plain.value_or(GitFacts{}), lib) << dir;
        return lib;
    }
    base::TempDir tmp_{"nixjail-git-facts-"};
    fs::path home_ = tmp_.path() / "home";
    fs::path repo_ = tmp_.path() / "repo";
    std::optional<std::string> old_home_ =
        std::getenv("HOME") ? std::optional<std::string>(std::getenv("HOME")) : std::nullopt;
};

TEST_F(GitFactsTest, PlainRepositoriesReadAsLibgit2ReadsThem) {
    fs::create_directories(repo_ / "src/deep");
    git(repo_, "init -q .");
    // Unborn: the branch, no commit.
    auto f = agreed(repo_);
    EXPECT_EQ(f.ref, "refs/heads/main");
    EXPECT_FALSE(f.sha);
    git(repo_, "remote add origin https://forge.example/owner/app.git");
    git(repo_, "commit -q --allow-empty -m one");
    f = agreed(repo_ / "src/deep");  // from a subdirectory, as exec may be started
    EXPECT_EQ(f.origin_url, "https://forge.example/owner/app.git");
    ASSERT_TRUE(f.sha);
    EXPECT_EQ(f.sha->size(), 40u);
    // Packed refs, another branch, a detached HEAD.
    git(repo_, "checkout -q -b feature && git commit -q --allow-empty -m two && git pack-refs --all");
    EXPECT_EQ(agreed(repo_).ref, "refs/heads/feature");
    git(repo_, "checkout -q --detach HEAD~1");
    f = agreed(repo_);
    EXPECT_EQ(f.ref, "HEAD");
    // No repository at all.
    fs::create_directories(tmp_.path() / "plain");
    EXPECT_EQ(readGitFactsFromFiles(tmp_.path() / "plain"), GitFacts{});
}

TEST_F(GitFactsTest, LayoutsItDoesNotReadAreLeftToLibgit2) {
    fs::create_directories(repo_);
    git(repo_, "init -q . && git commit -q --allow-empty -m one");
    git(repo_, "remote add origin git@forge.example:owner/app.git");
    ASSERT_TRUE(readGitFactsFromFiles(repo_));
    // A worktree (a .git file and a commondir).
    git(repo_, "worktree add -q ../wt");
    EXPECT_FALSE(readGitFactsFromFiles(tmp_.path() / "wt"));
    EXPECT_EQ(readGitFactsWithLibgit2(tmp_.path() / "wt").origin_url, "git@forge.example:owner/app.git");
    // URL rewrites, in the repository's config or the user's.
    git(repo_, "config url.https://mirror.example/.insteadOf git@forge.example:");
    EXPECT_FALSE(readGitFactsFromFiles(repo_));
    git(repo_, "config --unset url.https://mirror.example/.insteadOf");
    ASSERT_TRUE(readGitFactsFromFiles(repo_));
    base::writeFile(home_ / ".gitconfig", "[url \"https://mirror.example/\"]\n\tinsteadOf = git@forge.example:\n");
    EXPECT_FALSE(readGitFactsFromFiles(repo_));
    fs::remove(home_ / ".gitconfig");
    // Includes, and a quoted value.
    git(repo_, "config include.path other.conf");
    EXPECT_FALSE(readGitFactsFromFiles(repo_));
    git(repo_, "config --unset include.path");
    git(repo_, "config remote.origin.url '\"quoted;url\"'");
    EXPECT_FALSE(readGitFactsFromFiles(repo_));
}

}  // namespace
}  // namespace nixjail::runner::cli
