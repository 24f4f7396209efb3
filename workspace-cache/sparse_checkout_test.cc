// Mirrors and cached (sparse) checkouts against a local repository over file://.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "runner/base/error.h"
#include "runner/base/temp_dir.h"
#include "workspace-cache/checkout_cache.h"
#include "workspace-cache/git_test_repo.h"
#include "workspace-cache/tree_writer.h"

namespace nixjail::cache {
namespace {

namespace fs = std::filesystem;

class CheckoutCacheTest : public ::testing::Test {
  protected:
    void SetUp() override {
        first_ = remote_.commit({{"README.md", "readme\n"},
                                 {"src/main.c", "int main;\n"},
                                 {"src/lib/util.c", "util\n"},
                                 {"docs/guide.md", "guide\n"}},
                                "first");
    }
    CheckoutResult checkout(const std::string& rev, std::vector<std::string> paths,
                            const char* job) {
        return cache_.checkout({remote_.url(), rev, std::move(paths), std::nullopt},
                               dir_.path() / job);
    }

    base::TempDir dir_{"nixjail-cache-test-"};
    testing::GitTestRepo remote_{dir_.path() / "remote"};
    std::string first_;
    std::unique_ptr<Storage> storage_ = makeStorage(StorageKind::kCopy);
    GitMirrors mirrors_{dir_.path() / "mirrors"};
    CheckoutCache cache_{*storage_, dir_.path() / "checkouts", mirrors_};
};

TEST_F(CheckoutCacheTest, FullCheckoutMissThenHitWithoutFetch) {
    {
        CheckoutResult r = checkout(first_, {}, "job1");
        EXPECT_FALSE(r.hit);
        EXPECT_TRUE(r.fetched);
        EXPECT_EQ(r.commit, first_);
        EXPECT_EQ(base::readFile(r.workspace.path() / "src" / "lib" / "util.c"), "util\n");
        EXPECT_EQ(base::readFile(r.workspace.path() / "README.md"), "readme\n");
        EXPECT_FALSE(fs::exists(r.workspace.path() / ".git"));
    }
    EXPECT_FALSE(fs::exists(dir_.path() / "job1"));
    CheckoutResult again = checkout(first_, {}, "job2");
    EXPECT_TRUE(again.hit);
    EXPECT_FALSE(again.fetched);
}

TEST_F(CheckoutCacheTest, SparsePathsLimitTheTree) {
    CheckoutResult r = checkout(first_, {"src"}, "job");
    EXPECT_TRUE(fs::exists(r.workspace.path() / "src" / "main.c"));
    EXPECT_TRUE(fs::exists(r.workspace.path() / "src" / "lib" / "util.c"));
    EXPECT_FALSE(fs::exists(r.workspace.path() / "README.md"));
    EXPECT_FALSE(fs::exists(r.workspace.path() / "docs"));
    CheckoutResult glob = checkout(first_, {"docs/*.md"}, "job-glob");
    EXPECT_TRUE(fs::exists(glob.workspace.path() / "docs" / "guide.md"));
    EXPECT_FALSE(fs::exists(glob.workspace.path() / "src"));
    EXPECT_FALSE(glob.hit);  // a different path set is a different entry
}

TEST_F(CheckoutCacheTest, BranchIsRefetchedAndNewCommitsArriveIncrementally) {
    CheckoutResult a = checkout("main", {}, "a");
    EXPECT_EQ(a.commit, first_);
    std::string second = remote_.commit({{"src/main.c", "int main(void);\n"}}, "second");
    remote_.git({"tag", "v2"});
    CheckoutResult b = checkout("main", {}, "b");
    EXPECT_TRUE(b.fetched);
    EXPECT_EQ(b.commit, second);
    EXPECT_EQ(base::readFile(b.workspace.path() / "src" / "main.c"), "int main(void);\n");
    EXPECT_EQ(checkout("v2", {}, "c").commit, second);
    EXPECT_EQ(mirrors_.resolve(remote_.url(), first_.substr(0, 10)), first_);
}

TEST_F(CheckoutCacheTest, UnknownRevisionFailsNamingIt) {
    try {
        checkout("no-such-branch", {}, "job");
        FAIL();
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("'no-such-branch' not found"), std::string::npos)
            << e.what();
    }
    EXPECT_FALSE(fs::exists(dir_.path() / "job"));
}

TEST_F(CheckoutCacheTest, CorruptCheckoutEntryIsRebuilt) {
    { CheckoutResult r = checkout(first_, {}, "job1"); }
    ASSERT_EQ(cache_.list().size(), 1u);
    std::string key = cache_.list()[0].key;
    fs::remove(dir_.path() / "checkouts" / (key + ".done"));  // as if the builder crashed
    fs::remove(dir_.path() / "checkouts" / key / "README.md");
    CheckoutResult r = checkout(first_, {}, "job2");
    EXPECT_FALSE(r.hit);
    EXPECT_EQ(base::readFile(r.workspace.path() / "README.md"), "readme\n");
}

TEST_F(CheckoutCacheTest, HalfFetchedMirrorIsRecreated) {
    mirrors_.fetch(remote_.url());
    fs::path mirror = mirrors_.mirrorPath(remote_.url());
    fs::remove(mirror.parent_path() / (mirror.stem().string() + ".done"));
    fs::remove_all(mirror / "objects");  // the crash took the objects with it
    CheckoutResult r = checkout(first_, {}, "job");
    EXPECT_TRUE(r.fetched);
    EXPECT_EQ(base::readFile(r.workspace.path() / "README.md"), "readme\n");
}

TEST_F(CheckoutCacheTest, ConcurrentJobsShareOneCheckout) {
    mirrors_.fetch(remote_.url());
    std::vector<std::thread> threads;
    std::atomic<int> misses = 0;
    for (int i = 0; i < 6; ++i)
        threads.emplace_back([&, i] {
            CheckoutResult r = checkout(first_, {"src"}, ("job" + std::to_string(i)).c_str());
            if (!r.hit) ++misses;
            EXPECT_EQ(base::readFile(r.workspace.path() / "src" / "main.c"), "int main;\n");
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(misses, 1);
}

TEST_F(CheckoutCacheTest, MirrorConfigNeverHoldsTheUrlOrToken) {
    GitCredentials creds;
    creds.token = base::Secret("tok-should-not-persist");
    mirrors_.fetch(remote_.url(), creds);
    std::string config = base::readFile(mirrors_.mirrorPath(remote_.url()) / "config");
    EXPECT_EQ(config.find("tok-should-not-persist"), std::string::npos);
    EXPECT_EQ(config.find("remote"), std::string::npos) << config;
}

TEST_F(CheckoutCacheTest, GitDirCarriesHistoryAndMatchesTheSparseTree) {
    std::string second = remote_.commit({{"src/main.c", "int main(void);\n"}}, "second");
    CheckoutRequest req{remote_.url(), second, {"src"}, std::nullopt, GitDirRequest{.depth = 0}};
    CheckoutResult r = cache_.checkout(req, dir_.path() / "job");
    EXPECT_FALSE(r.hit);
    testing::GitTestRepo ws(r.workspace.path(), /*init=*/false);
    EXPECT_EQ(ws.git({"rev-parse", "HEAD"}), second);
    EXPECT_EQ(ws.git({"rev-list", "--count", "HEAD"}), "2");
    EXPECT_EQ(ws.git({"status", "--porcelain"}), "");
    EXPECT_EQ(ws.git({"rev-parse", "origin/main"}), second);
    EXPECT_EQ(ws.git({"remote", "get-url", "origin"}), remote_.url());
    EXPECT_FALSE(fs::exists(r.workspace.path() / "README.md"));
    EXPECT_EQ(ws.git({"show", first_ + ":README.md"}), "readme");
    EXPECT_EQ(ws.git({"config", "core.sparseCheckout"}), "true");
    EXPECT_EQ(ws.git({"sparse-checkout", "list"}), "src");  // patterns, as given
    // The same request without .git is a separate entry.
    EXPECT_FALSE(fs::exists(checkout(second, {"src"}, "plain").workspace.path() / ".git"));
}

TEST_F(CheckoutCacheTest, ConeModeKeepsTheRootsFilesAndTheParentsFiles) {
    remote_.commit({{"src/lib/deep/x.c", "x\n"}, {"src/other/y.c", "y\n"}, {"a*b.txt", "star\n"}}, "more");
    CheckoutRequest req{remote_.url(), "main", {"src/lib"}, std::nullopt, GitDirRequest{}};
    req.sparse_mode = SparseMode::kCone;
    CheckoutResult r = cache_.checkout(req, dir_.path() / "job");
    const fs::path w = r.workspace.path();
    EXPECT_TRUE(fs::exists(w / "README.md"));
    EXPECT_TRUE(fs::exists(w / "a*b.txt"));
    EXPECT_TRUE(fs::exists(w / "src" / "main.c"));  // a file of a parent directory
    EXPECT_TRUE(fs::exists(w / "src" / "lib" / "util.c"));
    EXPECT_TRUE(fs::exists(w / "src" / "lib" / "deep" / "x.c"));
    EXPECT_FALSE(fs::exists(w / "src" / "other"));
    EXPECT_FALSE(fs::exists(w / "docs"));
    testing::GitTestRepo ws(w, /*init=*/false);
    EXPECT_EQ(ws.git({"status", "--porcelain"}), "");
    EXPECT_EQ(ws.git({"config", "core.sparseCheckoutCone"}), "true");
    EXPECT_EQ(ws.git({"sparse-checkout", "list"}), "src/lib");
    // A partial clone, as actions/checkout makes for a sparse checkout: the blobs of the files
    // left out are not in the pack, and origin (a promisor remote) serves them when git asks.
    const std::string guide = ws.git({"rev-parse", "HEAD:docs/guide.md"});
    EXPECT_NE(ws.git({"rev-list", "--objects", "--missing=print", "HEAD"}).find("?" + guide), std::string::npos);
    EXPECT_EQ(ws.git({"config", "remote.origin.promisor"}), "true");
    EXPECT_EQ(ws.git({"show", "HEAD:docs/guide.md"}), "guide");
    // Patterns mode with the same path is another entry, without the root's files.
    CheckoutResult patterns = checkout("main", {"src/lib"}, "patterns");
    EXPECT_FALSE(patterns.hit);
    EXPECT_FALSE(fs::exists(patterns.workspace.path() / "README.md"));
}

TEST_F(CheckoutCacheTest, DefaultDepthIsAShallowRepositoryOnTheBranch) {
    std::string second = remote_.commit({{"src/main.c", "int main(void);\n"}}, "second");
    remote_.git({"tag", "-a", "v1", "-m", "one", first_});
    remote_.git({"branch", "side", first_});
    CheckoutResult r = cache_.checkout({remote_.url(), "main", {}, std::nullopt, GitDirRequest{}},
                                       dir_.path() / "job");
    testing::GitTestRepo ws(r.workspace.path(), /*init=*/false);
    EXPECT_EQ(ws.git({"rev-parse", "HEAD"}), second);
    EXPECT_EQ(ws.git({"rev-parse", "--is-shallow-repository"}), "true");
    EXPECT_EQ(ws.git({"rev-list", "--count", "HEAD"}), "1");
    EXPECT_EQ(ws.git({"log", "-1", "--format=%s"}), "second");
    EXPECT_EQ(ws.git({"branch", "--show-current"}), "main");
    EXPECT_EQ(ws.git({"rev-parse", "origin/main"}), second);
    EXPECT_EQ(ws.git({"rev-parse", "--abbrev-ref", "main@{upstream}"}), "origin/main");
    EXPECT_EQ(ws.git({"tag", "--list"}), "");  // no tags without fetch-tags
    EXPECT_EQ(ws.git({"branch", "-r"}), "  origin/main");
    EXPECT_EQ(ws.git({"status", "--porcelain"}), "");
    EXPECT_EQ(ws.git({"fsck", "--no-dangling"}), "");
    // The pack holds only what the one commit needs: not the first commit's objects.
    EXPECT_EQ(ws.git({"cat-file", "-t", second}), "commit");
    CommandOutput missing = runCommand({"git", "-C", r.workspace.path().string(), "cat-file", "-e", first_}, {});
    EXPECT_NE(missing.exit_code, 0);
}

TEST_F(CheckoutCacheTest, DepthTwoTagsAndDetachedHeads) {
    std::string second = remote_.commit({{"b", "b\n"}}, "second");
    std::string third = remote_.commit({{"c", "c\n"}}, "third");
    remote_.git({"tag", "-a", "v1", "-m", "one", first_});
    remote_.git({"tag", "v2", second});
    {
        GitDirRequest git{.depth = 2, .fetch_tags = true};
        CheckoutResult r = cache_.checkout({remote_.url(), third, {}, std::nullopt, git}, dir_.path() / "a");
        testing::GitTestRepo ws(r.workspace.path(), /*init=*/false);
        // Depth 2 from the commit, and the tagged commits with theirs: all three here.
        EXPECT_EQ(ws.git({"rev-list", "--count", "HEAD"}), "3");
        EXPECT_EQ(ws.git({"branch", "--show-current"}), "");  // a commit id: detached
        EXPECT_EQ(ws.git({"tag", "--list"}), "v1\nv2");
        EXPECT_EQ(ws.git({"describe", "--tags"}), "v2-1-g" + third.substr(0, 7));
        EXPECT_EQ(ws.git({"cat-file", "-t", "v1"}), "tag");  // the annotated tag object came along
    }
    {
        CheckoutResult r = cache_.checkout({remote_.url(), "v1", {}, std::nullopt, GitDirRequest{}},
                                           dir_.path() / "b");
        testing::GitTestRepo ws(r.workspace.path(), /*init=*/false);
        EXPECT_EQ(ws.git({"rev-parse", "HEAD"}), first_);
        EXPECT_EQ(ws.git({"tag", "--list"}), "v1");
        EXPECT_EQ(ws.git({"describe", "--tags"}), "v1");
        EXPECT_EQ(ws.git({"branch", "--show-current"}), "");
    }
    {
        // The triggering commit of a push: an older commit, named after its branch.
        GitDirRequest git{.depth = 0, .ref = "refs/heads/main", .origin_url = "https://forge.example/o/r"};
        CheckoutResult r = cache_.checkout({remote_.url(), second, {}, std::nullopt, git}, dir_.path() / "c");
        testing::GitTestRepo ws(r.workspace.path(), /*init=*/false);
        EXPECT_EQ(ws.git({"rev-parse", "HEAD"}), second);
        EXPECT_EQ(ws.git({"branch", "--show-current"}), "main");
        EXPECT_EQ(ws.git({"remote", "get-url", "origin"}), "https://forge.example/o/r");
        EXPECT_EQ(ws.git({"describe", "--tags"}), "v2");
        EXPECT_EQ(ws.git({"rev-parse", "--is-shallow-repository"}), "false");
    }
}

TEST_F(CheckoutCacheTest, PersistedCredentialsAreAnExtraHeaderInTheJobsCopyOnly) {
    CheckoutResult r = cache_.checkout({remote_.url(), "main", {}, std::nullopt, GitDirRequest{}},
                                       dir_.path() / "job");
    persistCredentials(r.workspace.path(), "https://forge.example", "dummy-token");
    testing::GitTestRepo ws(r.workspace.path(), /*init=*/false);
    // base64("x-access-token:dummy-token"), as actions/checkout writes it.
    EXPECT_EQ(ws.git({"config", "--get", "http.https://forge.example/.extraheader"}),
              "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46ZHVtbXktdG9rZW4=");
    // The cached entry that the next job snapshots has no header.
    CheckoutResult next = cache_.checkout({remote_.url(), "main", {}, std::nullopt, GitDirRequest{}},
                                          dir_.path() / "next");
    EXPECT_TRUE(next.hit);
    EXPECT_EQ(base::readFile(next.workspace.path() / ".git" / "config").find("extraheader"), std::string::npos);
}

TEST_F(CheckoutCacheTest, MirrorsAreListedAndPrunedLeastRecentlyUsedFirst) {
    testing::GitTestRepo other(dir_.path() / "other");
    other.commit({{"x", "x\n"}}, "x");
    mirrors_.fetch(other.url());
    mirrors_.fetch(remote_.url());  // used last
    auto listed = mirrors_.list();
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_GT(listed[0].size_bytes, 0u);
    std::uint64_t keep_one = std::max(listed[0].size_bytes, listed[1].size_bytes);
    // Both fetched within the same second: make "other" clearly older.
    fs::path marker = mirrors_.mirrorPath(other.url()).replace_extension(".done");
    fs::last_write_time(marker, fs::last_write_time(marker) - std::chrono::hours(1));
    EXPECT_EQ(mirrors_.prune(keep_one), std::vector<std::string>{other.url()});
    EXPECT_FALSE(fs::exists(mirrors_.mirrorPath(other.url())));
    EXPECT_TRUE(mirrors_.isComplete(remote_.url()));
    // A half-fetched mirror is removed whatever the budget.
    fs::create_directories(mirrors_.mirrorPath("file:///nowhere"));
    EXPECT_EQ(mirrors_.prune(1ull << 40).size(), 1u);
    EXPECT_FALSE(fs::exists(mirrors_.mirrorPath("file:///nowhere")));
}

// The tree is written straight from the mirror's objects (tree_writer.cc) and must leave what
// libgit2's checkout left: modes, links, submodules as empty directories, the bytes as committed.
TEST_F(CheckoutCacheTest, ModesLinksAndSubmodulesAsCommitted) {
    const fs::path src = remote_.dir();
    base::writeFile(src / ".gitattributes", "* text eol=crlf\n");
    fs::create_directory(src / "tools");
    base::writeFile(src / "tools" / "run.sh", "#!/bin/sh\n");
    fs::permissions(src / "tools" / "run.sh", fs::perms::owner_exec, fs::perm_options::add);
    fs::create_symlink("tools/run.sh", src / "run");
    fs::create_symlink("../nowhere", src / "docs" / "dangling");
    remote_.commit({}, "links");
    remote_.git({"update-index", "--add", "--cacheinfo", "160000," + first_ + ",vendor/lib"});
    remote_.git({"commit", "-q", "-m", "submodule"});
    const std::string commit = remote_.git({"rev-parse", "HEAD"});
    mirrors_.fetch(remote_.url());
    const fs::path mirror = mirrors_.mirrorPath(remote_.url());

    const fs::path tree = dir_.path() / "tree";
    fs::create_directory(tree);
    checkoutCommit(mirror, commit, {}, tree);
    auto executable = [](const fs::path& p) {
        return (fs::status(p).permissions() & fs::perms::owner_exec) != fs::perms::none;
    };
    EXPECT_TRUE(executable(tree / "tools" / "run.sh"));
    EXPECT_FALSE(executable(tree / "src" / "main.c"));
    EXPECT_EQ(fs::read_symlink(tree / "run"), "tools/run.sh");
    EXPECT_EQ(fs::read_symlink(tree / "docs" / "dangling"), "../nowhere");
    EXPECT_TRUE(fs::is_directory(tree / "vendor" / "lib"));
    EXPECT_TRUE(fs::is_empty(tree / "vendor" / "lib"));
    EXPECT_EQ(base::readFile(tree / "README.md"), "readme\n");  // no eol=crlf, as before

    // A sparse selection of a link and a submodule makes only their directories.
    const fs::path sparse = dir_.path() / "sparse";
    fs::create_directory(sparse);
    checkoutCommit(mirror, commit, {"run", "vendor"}, sparse);
    EXPECT_EQ(fs::read_symlink(sparse / "run"), "tools/run.sh");
    EXPECT_TRUE(fs::is_directory(sparse / "vendor" / "lib"));
    EXPECT_FALSE(fs::exists(sparse / "tools"));
    EXPECT_FALSE(fs::exists(sparse / "README.md"));
}

TEST_F(CheckoutCacheTest, ManyFilesAllArriveWhole) {
    std::vector<std::pair<std::string, std::string>> files;
    for (int i = 0; i < 500; ++i)
        files.push_back(
            {"d" + std::to_string(i % 7) + "/f" + std::to_string(i), std::string(i, 'x')});
    const std::string commit = remote_.commit(files, "many");
    mirrors_.fetch(remote_.url());
    const fs::path tree = dir_.path() / "tree";
    fs::create_directory(tree);
    checkoutCommit(mirrors_.mirrorPath(remote_.url()), commit, {}, tree);
    for (const auto& [path, content] : files)
        EXPECT_EQ(base::readFile(tree / path), content) << path;
}

TEST_F(CheckoutCacheTest, RefusedNamesAndFailedWritesSayWhatFailed) {
    // A tree git itself would not write: .GIT is the repository's directory on NTFS and HFS.
    CommandOutput evil = runCommand(
        {"sh", "-c",
         "cd \"$0\" && b=$(echo x | git hash-object -w --stdin) &&"
         " s=$(printf '100644 blob %s\\tconfig\\n' $b | git mktree) &&"
         " r=$(printf '040000 tree %s\\t.GIT\\n100644 blob %s\\tok\\n' $s $b | git mktree) &&"
         " c=$(git commit-tree -m evil $r) && git update-ref refs/heads/evil $c && echo $c",
         remote_.dir().string()},
        {"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.invalid", "GIT_COMMITTER_NAME=t",
         "GIT_COMMITTER_EMAIL=t@example.invalid", "HOME=/nonexistent"});
    ASSERT_EQ(evil.exit_code, 0) << evil.err;
    mirrors_.fetch(remote_.url());
    const fs::path mirror = mirrors_.mirrorPath(remote_.url());
    const fs::path tree = dir_.path() / "tree";
    fs::create_directory(tree);
    try {
        checkoutCommit(mirror, evil.out.substr(0, 40), {}, tree);
        FAIL();
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("refusing to check out '.GIT'"), std::string::npos)
            << e.what();
    }
    EXPECT_FALSE(fs::exists(tree / ".GIT"));
    // The destination must be empty; a file in the way is named.
    base::writeFile(tree / "README.md", "in the way\n");
    try {
        checkoutCommit(mirror, first_, {}, tree);
        FAIL();
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("cannot create '" + (tree / "README.md").string() +
                                             "': File exists"),
                  std::string::npos)
            << e.what();
    }
}

TEST(CheckoutSafeName, RefusesWhatGitRefuses) {
    for (const char* name :
         {"", ".", "..", ".git", ".GIT", ".Git. ", ".git:stream", "git~1", "GIT~1", "a/b"})
        EXPECT_FALSE(isCheckoutSafeName(name, GIT_FILEMODE_BLOB)) << name;
    for (const char* name : {"...", ".gitx", "git~2", ".git~1", "a\\b", ".gitmodules", "x.git"})
        EXPECT_TRUE(isCheckoutSafeName(name, GIT_FILEMODE_BLOB)) << name;
    EXPECT_FALSE(isCheckoutSafeName(".gitmodules", GIT_FILEMODE_LINK));
    EXPECT_FALSE(isCheckoutSafeName("GITMOD~1", GIT_FILEMODE_LINK));
    EXPECT_TRUE(isCheckoutSafeName(".gitattributes", GIT_FILEMODE_LINK));  // as libgit2 allows
}

}  // namespace
}  // namespace nixjail::cache
