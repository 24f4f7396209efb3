// The on-disk memo of Nix answers: kept across instances, never trusted past what it was told,
// never returning a path the store no longer has, never failing a job over its own files.
#include "workspace-cache/closure_memo.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::cache {
namespace {

namespace fs = std::filesystem;

class ClosureMemoTest : public ::testing::Test {
  protected:
    // Stand-ins for store paths: the memo only asks whether they still exist.
    std::string storePath(const std::string& name) {
        const fs::path p = store_.path() / name;
        if (!fs::exists(p)) base::writeFile(p, name);
        return p.string();
    }
    ClosureMemo memo(size_t max_entries = 4096) {
        return ClosureMemo(dir_.path() / "closures", max_entries, [this] { return now_; });
    }
    base::TempDir store_{"nixjail-memo-store-"};
    base::TempDir dir_{"nixjail-memo-"};
    int64_t now_ = 1'000'000;
};

TEST_F(ClosureMemoTest, PackagesAreRememberedAcrossInstancesPerIdentityAndNames) {
    const auto bash = storePath("aaa-bash"), curl = storePath("bbb-curl");
    memo().rememberPackages("store /nix/store/x-nixpkgs", {"bash", "curl"}, {bash, curl});
    auto again = memo();  // a later process
    EXPECT_EQ(again.packages("store /nix/store/x-nixpkgs", {"bash", "curl"}, std::nullopt),
              (std::vector<std::string>{bash, curl}));
    EXPECT_FALSE(again.packages("store /nix/store/y-nixpkgs", {"bash", "curl"}, std::nullopt));
    EXPECT_FALSE(again.packages("store /nix/store/x-nixpkgs", {"curl", "bash"}, std::nullopt));
    EXPECT_FALSE(again.packages("store /nix/store/x-nixpkgs", {"bash"}, std::nullopt));
}

TEST_F(ClosureMemoTest, AnswersAreNotTrustedPastTheirMaximumAge) {
    const auto bash = storePath("aaa-bash");
    memo().rememberPackages("tree /src/nixpkgs", {"bash"}, {bash});
    now_ += 3600;
    EXPECT_TRUE(memo().packages("tree /src/nixpkgs", {"bash"}, std::chrono::seconds(3600)));
    EXPECT_TRUE(memo().packages("tree /src/nixpkgs", {"bash"}, std::nullopt));
    now_ += 1;
    EXPECT_FALSE(memo().packages("tree /src/nixpkgs", {"bash"}, std::chrono::seconds(3600)));
    now_ -= 7200;  // a clock set back does not make an answer young
    EXPECT_FALSE(memo().packages("tree /src/nixpkgs", {"bash"}, std::chrono::seconds(3600)));
}

TEST_F(ClosureMemoTest, ClosuresAreKeyedByTheirRootsInAnyOrder) {
    const auto bash = storePath("aaa-bash"), curl = storePath("bbb-curl"), libs = storePath("ccc-libs");
    memo().rememberClosure({curl, bash}, {{bash, curl, libs}, 4096});
    const auto facts = memo().closure({bash, curl, bash});
    ASSERT_TRUE(facts);
    EXPECT_EQ(facts->paths, (std::vector<std::string>{bash, curl, libs}));
    EXPECT_EQ(facts->bytes, 4096u);
    EXPECT_FALSE(memo().closure({bash}));
}

TEST_F(ClosureMemoTest, AnAnswerNamingACollectedPathIsNotReturned) {
    const auto bash = storePath("aaa-bash"), libs = storePath("ccc-libs");
    memo().rememberPackages("store /nix/store/x-nixpkgs", {"bash"}, {bash});
    memo().rememberClosure({bash}, {{bash, libs}, 10});
    fs::remove(libs);  // nix-collect-garbage took it
    EXPECT_TRUE(memo().packages("store /nix/store/x-nixpkgs", {"bash"}, std::nullopt));
    EXPECT_FALSE(memo().closure({bash}));
    fs::remove(bash);
    EXPECT_FALSE(memo().packages("store /nix/store/x-nixpkgs", {"bash"}, std::nullopt));
}

TEST_F(ClosureMemoTest, DamagedEntriesAreMissesAndAnUnwritableMemoFailsNothing) {
    const auto bash = storePath("aaa-bash");
    auto m = memo();
    m.rememberClosure({bash}, {{bash}, 1});
    for (const auto& e : fs::directory_iterator(m.dir())) base::writeFile(e.path(), "{\"roots\": [");
    EXPECT_FALSE(m.closure({bash}));

    base::writeFile(dir_.path() / "file", "not a directory");
    ClosureMemo broken(dir_.path() / "file" / "closures");
    EXPECT_NO_THROW(broken.rememberClosure({bash}, {{bash}, 1}));
    EXPECT_FALSE(broken.closure({bash}));
}

TEST_F(ClosureMemoTest, TheDirectoryIsBoundedAndClearForgetsEverything) {
    auto m = memo(3);
    std::vector<std::string> paths;
    for (int i = 0; i < 5; ++i) {
        paths.push_back(storePath("p" + std::to_string(i)));
        m.rememberClosure({paths.back()}, {{paths.back()}, 1});
    }
    EXPECT_EQ(m.size(), 3u);
    EXPECT_TRUE(m.closure({paths[4]}));
    EXPECT_EQ(m.clear(), 3u);
    EXPECT_FALSE(m.closure({paths[4]}));
}

}  // namespace
}  // namespace nixjail::cache
