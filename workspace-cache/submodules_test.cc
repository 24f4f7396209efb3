#include "workspace-cache/submodules.h"

#include <gtest/gtest.h>

#include "runner/base/error.h"
#include "runner/base/temp_dir.h"
#include "workspace-cache/checkout_cache.h"
#include "workspace-cache/git_test_repo.h"

namespace nixjail::cache {
namespace {

TEST(Gitmodules, ParsesSectionsQuotesAndComments) {
    const auto subs = parseGitmodules(R"(# top comment
[core]
    path = not-a-submodule
[submodule "lib"]
    path = vendor/lib
    url = ../library.git ; trailing comment
[submodule "with space"]
	PATH = "dir with space"
	url = "https://example.test/a\"b"
	shallow
)");
    ASSERT_EQ(subs.size(), 2u);
    EXPECT_EQ(subs[0].name, "lib");
    EXPECT_EQ(subs[0].path, "vendor/lib");
    EXPECT_EQ(subs[0].url, "../library.git");
    EXPECT_EQ(subs[1].name, "with space");
    EXPECT_EQ(subs[1].path, "dir with space");
    EXPECT_EQ(subs[1].url, "https://example.test/a\"b");
}

TEST(Gitmodules, MalformedTextNamesTheLine) {
    try {
        parseGitmodules("[submodule \"x\"]\n  url = \"open\n");
        FAIL() << "no error";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
    }
    EXPECT_THROW(parseGitmodules("[submodule \"x\"\n"), base::Error);
}

TEST(SubmoduleUrl, RelativeToTheSuperproject) {
    EXPECT_EQ(resolveSubmoduleUrl("https://forge.test/org/app", "../lib"),
              "https://forge.test/org/lib");
    EXPECT_EQ(resolveSubmoduleUrl("https://forge.test/org/app/", "./sub"),
              "https://forge.test/org/app/sub");
    EXPECT_EQ(resolveSubmoduleUrl("https://forge.test/org/app", "../../other/lib"),
              "https://forge.test/other/lib");
    EXPECT_EQ(resolveSubmoduleUrl("file:///srv/git/org/app", "../lib"), "file:///srv/git/org/lib");
    EXPECT_EQ(resolveSubmoduleUrl("https://forge.test/org/app", "https://elsewhere.test/x"),
              "https://elsewhere.test/x");
    EXPECT_THROW(resolveSubmoduleUrl("https://forge.test/org/app", "../../../x"), base::Error);
}

TEST(Submodules, GitlinksNamedInGitmodulesOfTheCommit) {
    base::TempDir dir("nixjail-submodules-");
    testing::GitTestRepo lib(dir.path() / "lib");
    const std::string libCommit = lib.commit({{"lib.txt", "lib\n"}}, "lib");
    testing::GitTestRepo app(dir.path() / "app");
    app.commit({{".gitmodules",
                 "[submodule \"lib\"]\n\tpath = vendor/lib\n\turl = ../lib\n"
                 "[submodule \"gone\"]\n\tpath = gone\n\turl = ../gone\n"},
                {"app.txt", "app\n"}},
               "app");
    // A gitlink the way `git submodule add` records it, without cloning anything.
    app.git({"update-index", "--add", "--cacheinfo", "160000," + libCommit + ",vendor/lib"});
    app.git({"commit", "-q", "-m", "add lib"});
    const std::string appCommit = app.git({"rev-parse", "HEAD"});

    const auto subs = listSubmodules(app.dir() / ".git", appCommit);
    ASSERT_EQ(subs.size(), 1u);  // "gone" has no gitlink
    EXPECT_EQ(subs[0].name, "lib");
    EXPECT_EQ(subs[0].path, "vendor/lib");
    EXPECT_EQ(subs[0].commit, libCommit);
    EXPECT_EQ(resolveSubmoduleUrl(app.url(), subs[0].url), lib.url());

    // A commit with a gitlink checks out from a bare mirror: the submodule is an empty directory
    // and the mirror stays bare.
    testing::GitTestRepo mirror(dir.path() / "mirror.git", false);
    app.git({"clone", "-q", "--bare", app.dir().string(), mirror.dir().string()});
    const auto tree = dir.path() / "tree";
    std::filesystem::create_directories(tree);
    checkoutCommit(mirror.dir(), appCommit, {}, tree);
    EXPECT_TRUE(std::filesystem::exists(tree / "app.txt"));
    EXPECT_TRUE(std::filesystem::is_directory(tree / "vendor/lib"));
    EXPECT_TRUE(std::filesystem::is_empty(tree / "vendor/lib"));
    EXPECT_EQ(mirror.git({"config", "core.bare"}), "true");

    const std::string first = app.git({"rev-list", "--max-parents=0", "HEAD"});
    EXPECT_TRUE(listSubmodules(app.dir() / ".git", first).empty());
}

}  // namespace
}  // namespace nixjail::cache
