// workspace-cache storage on a real btrfs: all three backends, detection, entries as subvolumes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <memory>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "tests/integration/btrfs_loop.h"
#include "tests/integration/require.h"
#include "workspace-cache/entry_store.h"
#include "workspace-cache/storage_conformance.h"

namespace nixjail::cache {
namespace {

namespace fs = std::filesystem;

class BtrfsStorageTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string reason = nixjail::testing::BtrfsLoopMount::unavailableReason();
        NIXJAIL_REQUIRE(reason.empty(), reason);
        try {
            mount_ = std::make_unique<nixjail::testing::BtrfsLoopMount>();
        } catch (const base::Error& e) {
            NIXJAIL_REQUIRE(false, std::string("cannot set up btrfs on a loop device: ") + e.what());
        }
    }
    fs::path dir(const char* name) {
        fs::path p = mount_->mountPoint() / name;
        fs::create_directories(p);
        return p;
    }
    std::unique_ptr<nixjail::testing::BtrfsLoopMount> mount_;
};

TEST_F(BtrfsStorageTest, DetectsBtrfsAndLeavesNoProbe) {
    EXPECT_EQ(detectStorageKind(mount_->mountPoint()), StorageKind::kBtrfs);
    EXPECT_TRUE(fs::is_empty(mount_->mountPoint()));
}

TEST_F(BtrfsStorageTest, BtrfsBackendPassesConformanceSuite) {
    auto s = makeStorage(StorageKind::kBtrfs);
    testing::runStorageConformance(*s, dir("btrfs"));
}

TEST_F(BtrfsStorageTest, ReflinkBackendPassesConformanceSuite) {
    auto s = makeStorage(StorageKind::kReflink);
    testing::runStorageConformance(*s, dir("reflink"));
}

TEST_F(BtrfsStorageTest, CopyBackendPassesConformanceSuite) {
    auto s = makeStorage(StorageKind::kCopy);
    testing::runStorageConformance(*s, dir("copy"));
}

TEST_F(BtrfsStorageTest, CreateAndSnapshotMakeSubvolumes) {
    auto s = makeStorage(StorageKind::kBtrfs);
    fs::path d = dir("sub");
    s->create(d / "a");
    base::writeFile(d / "a" / "f", "x");
    s->snapshot(d / "a", d / "b");
    struct stat st {};
    ASSERT_EQ(::stat((d / "b").c_str(), &st), 0);
    EXPECT_EQ(st.st_ino, 256u) << "a snapshot's root has the subvolume root inode";
    // A plain directory (e.g. a crash leftover) is removed too.
    fs::create_directories(d / "plain" / "x");
    s->remove(d / "plain");
    s->remove(d / "b");
    s->remove(d / "a");
    EXPECT_TRUE(fs::is_empty(d));
}

TEST_F(BtrfsStorageTest, EntryStoreBuildsSnapshotsAndEvictsSubvolumes) {
    auto s = makeStorage(StorageKind::kBtrfs);
    EntryStore store(*s, dir("entries"));
    {
        EntryPin pin = store.acquire("k", [](const fs::path& t) { base::writeFile(t / "f", "built"); });
        EXPECT_FALSE(pin.hit());
        SubvolumeLease job = SubvolumeLease::snapshotOf(*s, pin.path(), mount_->mountPoint() / "job");
        EXPECT_EQ(base::readFile(job.path() / "f"), "built");
    }
    EXPECT_FALSE(fs::exists(mount_->mountPoint() / "job"));
    EXPECT_EQ(store.prune(0), std::vector<std::string>{"k"});
    EXPECT_FALSE(fs::exists(store.dir() / "k"));
}

}  // namespace
}  // namespace nixjail::cache
