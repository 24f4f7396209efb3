// Mirrors of repositories on this machine: fetched with git's CLI (libgit2 without git), with the
// same refs as the libgit2 path and errors that show what git said.
#include "workspace-cache/local_fetch.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "workspace-cache/git_mirror.h"
#include "workspace-cache/git_test_repo.h"

namespace nixjail::cache {
namespace {

namespace fs = std::filesystem;

// Sets PATH for one scope, restoring the runner's afterwards.
class ScopedPath {
  public:
    explicit ScopedPath(const std::string& value) {
        const char* old = std::getenv("PATH");
        if (old) old_ = old;
        ::setenv("PATH", value.c_str(), 1);
    }
    ~ScopedPath() {
        if (old_)
            ::setenv("PATH", old_->c_str(), 1);
        else
            ::unsetenv("PATH");
    }
    ScopedPath(const ScopedPath&) = delete;
    ScopedPath& operator=(const ScopedPath&) = delete;

  private:
    std::optional<std::string> old_;
};

class GitMirrorLocalFetch : public ::testing::Test {
  protected:
    void SetUp() override {
        // 300 commits through fast-import (one git process), then the kinds of refs a forge has.
        fs::path stream = dir_.path() / "stream";
        {
            std::ofstream out(stream, std::ios::binary);
            for (int i = 1; i <= kCommits; ++i) {
                std::string msg = "commit " + std::to_string(i) + "\n";
                std::string data = "revision " + std::to_string(i) + "\n";
                out << "commit refs/heads/main\ncommitter t <t@example.invalid> " << 1700000000 + i
                    << " +0000\ndata " << msg.size() << "\n"
                    << msg << "M 100644 inline f" << i % 10 << ".txt\ndata " << data.size() << "\n"
                    << data << "\n";
            }
        }
        CommandOutput r = runCommand({"sh", "-c", "git -C \"$0\" fast-import --quiet < \"$1\"",
                                      remote_.dir().string(), stream.string()},
                                     {"GIT_CONFIG_NOSYSTEM=1", "HOME=/nonexistent"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        remote_.git({"reset", "-q", "--hard", "main"});
        remote_.git({"branch", "topic", "main~50"});
        remote_.git({"tag", "-a", "v1", "-m", "v1", "main~100"});
        remote_.git({"tag", "light", "main~200"});
        remote_.git({"update-ref", "refs/pull/7/head", "main~10"});
        remote_.git({"update-ref", "refs/other/x", "main~5"});  // not a mirrored namespace
    }

    // "<id> <name>" of every ref a mirror keeps, in `repo`.
    static std::string mirroredRefs(const fs::path& repo) {
        return testing::GitTestRepo(repo, false)
            .git({"for-each-ref", "--format=%(objectname) %(refname)", "refs/heads", "refs/tags",
                  "refs/pull", "refs/other"});
    }
    std::string sourceRefs() const {
        return remote_.git({"for-each-ref", "--format=%(objectname) %(refname)", "refs/heads",
                            "refs/tags", "refs/pull"});
    }

    static constexpr int kCommits = 300;
    base::TempDir dir_{"nixjail-local-fetch-test-"};
    testing::GitTestRepo remote_{dir_.path() / "remote"};
    GitMirrors mirrors_{dir_.path() / "mirrors"};
};

TEST(LocalRemote, FileUrlsAndAbsolutePathsAreLocal) {
    EXPECT_TRUE(isLocalRemote("file:///srv/git/app.git"));
    EXPECT_TRUE(isLocalRemote("/srv/git/app.git"));
    EXPECT_FALSE(isLocalRemote("https://forge.example/org/app.git"));
    EXPECT_FALSE(isLocalRemote("http://127.0.0.1:3000/org/app.git"));
    EXPECT_FALSE(isLocalRemote("ssh://git@forge.example/org/app.git"));
    EXPECT_FALSE(isLocalRemote("relative/app.git"));
}

TEST_F(GitMirrorLocalFetch, MirrorHoldsTheSourcesBranchesTagsAndPullRefs) {
    fs::path mirror = mirrors_.fetch(remote_.url());
    EXPECT_TRUE(mirrors_.isComplete(remote_.url()));
    EXPECT_EQ(mirroredRefs(mirror), sourceRefs());
    EXPECT_EQ(testing::GitTestRepo(mirror, false).git({"rev-list", "--count", "main"}),
              std::to_string(kCommits));
    EXPECT_EQ(mirrors_.resolve(remote_.url(), "v1"), remote_.git({"rev-parse", "main~100"}));
    EXPECT_EQ(mirrors_.resolve(remote_.url(), "light"), remote_.git({"rev-parse", "main~200"}));
    // Nothing about the remote lands in the mirror's config, as with libgit2's anonymous remote.
    EXPECT_EQ(base::readFile(mirror / "config").find("remote"), std::string::npos);
    EXPECT_FALSE(fs::exists(mirror / "FETCH_HEAD"));
}

TEST_F(GitMirrorLocalFetch, IncrementalFetchBringsNewCommitsAndPrunesDeletedRefs) {
    fs::path mirror = mirrors_.fetch(remote_.url());
    std::string next = remote_.commit({{"new.txt", "new\n"}}, "after the first fetch");
    remote_.git({"branch", "-D", "topic"});
    remote_.git({"tag", "-f", "light", "main"});  // moved, as a force-push would
    EXPECT_EQ(mirrors_.fetch(remote_.url()), mirror);
    EXPECT_EQ(mirroredRefs(mirror), sourceRefs());
    EXPECT_EQ(mirrors_.resolve(remote_.url(), "main"), next);
    EXPECT_EQ(mirrors_.resolve(remote_.url(), "topic"), std::nullopt);
    EXPECT_EQ(mirrors_.resolve(remote_.url(), "light"), next);
    // Each fetch arrived as a pack, as libgit2 leaves them, not as loose objects.
    size_t packs = 0, loose = 0;
    for (const auto& de : fs::recursive_directory_iterator(mirror / "objects")) {
        if (de.path().extension() == ".pack") ++packs;
        if (de.is_regular_file() && de.path().parent_path().filename().string().size() == 2)
            ++loose;
    }
    EXPECT_EQ(packs, 2u);
    EXPECT_EQ(loose, 0u);
}

TEST_F(GitMirrorLocalFetch, AbsolutePathIsFetchedLikeAFileUrl) {
    const std::string path = remote_.dir().string();
    fs::path mirror = mirrors_.fetch(path);
    EXPECT_EQ(mirroredRefs(mirror), sourceRefs());
    EXPECT_NE(mirror, mirrors_.mirrorPath(remote_.url()));  // keyed by the URL as given
}

TEST_F(GitMirrorLocalFetch, MissingRepositoryFailsNamingItGitsExitCodeAndStderr) {
    const std::string url = "file://" + (dir_.path() / "no-such-repo.git").string();
    try {
        mirrors_.fetch(url);
        FAIL() << "fetched a repository that does not exist";
    } catch (const base::Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("cannot fetch '" + url + "'"), std::string::npos) << what;
        EXPECT_NE(what.find("git fetch exited with 128"), std::string::npos) << what;
        EXPECT_NE(what.find("does not appear to be a git repository"), std::string::npos) << what;
    }
    EXPECT_FALSE(mirrors_.isComplete(url));
    EXPECT_EQ(mirrors_.resolve(url, "main"), std::nullopt);
}

TEST_F(GitMirrorLocalFetch, FetchRunsTheGitCliIgnoringTheUsersConfig) {
    std::optional<fs::path> git = findGitProgram();
    ASSERT_TRUE(git) << "git is not in PATH";
    // A git in front of the real one that records its arguments and what config it would read.
    fs::path bin = dir_.path() / "bin";
    fs::create_directories(bin);
    fs::path log = dir_.path() / "git.log";
    base::writeFile(bin / "git",
                    "#!/bin/sh\necho \"$HOME|$GIT_CONFIG_GLOBAL|$GIT_CONFIG_NOSYSTEM "
                    "$*\" >> '" +
                        log.string() + "'\nexec '" + git->string() + "' \"$@\"\n");
    ::chmod((bin / "git").c_str(), 0755);
    // The user's config would break the fetch: an unknown URL rewrite for everything.
    fs::path home = dir_.path() / "home";
    fs::create_directories(home);
    base::writeFile(home / ".gitconfig", "[url \"file:///nowhere/\"]\n\tinsteadOf = file://\n");
    ::setenv("HOME", home.c_str(), 1);
    {
        ScopedPath path(bin.string() + ":" + std::getenv("PATH"));
        fs::path mirror = mirrors_.fetch(remote_.url());
        EXPECT_EQ(mirroredRefs(mirror), sourceRefs());
    }
    ::unsetenv("HOME");
    const std::string calls = base::readFile(log);
    EXPECT_NE(calls.find("/nonexistent|/dev/null|1 --git-dir="), std::string::npos) << calls;
    EXPECT_NE(calls.find(" fetch --quiet --prune --no-tags"), std::string::npos) << calls;
    EXPECT_NE(calls.find("-- " + remote_.url() + " +refs/heads/*:refs/heads/*"), std::string::npos)
        << calls;
}

TEST_F(GitMirrorLocalFetch, WithoutGitInstalledLibgit2Fetches) {
    const std::string expected = sourceRefs();
    fs::path empty = dir_.path() / "empty-bin";
    fs::create_directories(empty);
    fs::path mirror;
    {
        ScopedPath path(empty.string());
        ASSERT_EQ(findGitProgram(), std::nullopt);
        mirror = mirrors_.fetch(remote_.url());
    }
    EXPECT_TRUE(mirrors_.isComplete(remote_.url()));
    EXPECT_EQ(mirroredRefs(mirror), expected);
}

}  // namespace
}  // namespace nixjail::cache
