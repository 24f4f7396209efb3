// cache.storage on a real btrfs: a forced backend is the one used (copy makes no subvolumes),
// btrfs and reflink are accepted where they work.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <memory>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "tests/integration/btrfs_loop.h"
#include "tests/integration/require.h"
#include "workspace-cache/cache_set.h"
#include "workspace-cache/command_output.h"
#include "workspace-cache/git_test_repo.h"

namespace nixjail::cache {
namespace {

namespace fs = std::filesystem;

bool isSubvolume(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_ino == 256;  // the root inode of every btrfs subvolume
}

class StorageChoiceBtrfsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string reason = nixjail::testing::BtrfsLoopMount::unavailableReason();
        NIXJAIL_REQUIRE(reason.empty(), reason);
        try {
            mount_ = std::make_unique<nixjail::testing::BtrfsLoopMount>();
        } catch (const base::Error& e) {
            NIXJAIL_REQUIRE(false,
                            std::string("cannot set up btrfs on a loop device: ") + e.what());
        }
    }
    fs::path dir(const char* name) {
        fs::path p = mount_->mountPoint() / name;
        fs::create_directories(p);
        return p;
    }
    // `btrfs subvolume list` of the whole filesystem, one line per subvolume.
    std::string subvolumes() {
        CommandOutput r =
            runCommand({"btrfs", "subvolume", "list", mount_->mountPoint().string()}, {});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return r.out;
    }
    std::unique_ptr<nixjail::testing::BtrfsLoopMount> mount_;
};

TEST_F(StorageChoiceBtrfsTest, ForcedCopyOnBtrfsMakesNoSubvolumes) {
    testing::GitTestRepo remote(dir("remote"));
    const std::string commit = remote.commit({{"src/a.c", "a\n"}, {"README", "r\n"}}, "c");
    CacheSet caches(dir("cache"), StorageKind::kCopy);
    EXPECT_EQ(caches.storage().kind(), StorageKind::kCopy);
    CheckoutResult first =
        caches.checkouts().checkout({remote.url(), commit, {"src"}, {}}, dir("jobs") / "1");
    CheckoutResult second =
        caches.checkouts().checkout({remote.url(), commit, {"src"}, {}}, dir("jobs") / "2");
    EXPECT_TRUE(second.hit);
    EXPECT_EQ(base::readFile(second.workspace.path() / "src" / "a.c"), "a\n");
    EXPECT_FALSE(isSubvolume(second.workspace.path())) << "a copy, not a snapshot";
    EXPECT_EQ(subvolumes(), "") << "forced copy on btrfs created subvolumes";
}

TEST_F(StorageChoiceBtrfsTest, ForcedBtrfsAndReflinkWorkOnBtrfs) {
    testing::GitTestRepo remote(dir("remote"));
    const std::string commit = remote.commit({{"src/a.c", "a\n"}}, "c");
    {
        CacheSet caches(dir("btrfs-cache"), StorageKind::kBtrfs);
        CheckoutResult r =
            caches.checkouts().checkout({remote.url(), commit, {}, {}}, dir("jobs") / "b");
        EXPECT_TRUE(isSubvolume(r.workspace.path()));
    }
    CacheSet caches(dir("reflink-cache"), StorageKind::kReflink);
    EXPECT_EQ(caches.storage().kind(), StorageKind::kReflink);
    CheckoutResult r =
        caches.checkouts().checkout({remote.url(), commit, {}, {}}, dir("jobs") / "r");
    EXPECT_FALSE(isSubvolume(r.workspace.path()));
    EXPECT_EQ(base::readFile(r.workspace.path() / "src" / "a.c"), "a\n");
}

}  // namespace
}  // namespace nixjail::cache
