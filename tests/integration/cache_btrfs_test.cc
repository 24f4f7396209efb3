// workspace-cache storage on a real btrfs: all three backends, detection, entries as subvolumes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"
#include "tests/integration/btrfs_loop.h"
#include "tests/integration/require.h"
#include "workspace-cache/checkout_cache.h"
#include "workspace-cache/entry_store.h"
#include "workspace-cache/git_test_repo.h"
#include "workspace-cache/storage_conformance.h"

namespace nixjail::cache {
namespace {

namespace fs = std::filesystem;

// True when the first extent of `file` is shared with another file (FIEMAP_EXTENT_SHARED).
bool firstExtentShared(const fs::path& file) {
    base::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    EXPECT_TRUE(fd.valid()) << file;
    ::fsync(fd.get());
    alignas(struct fiemap) char buf[sizeof(struct fiemap) + sizeof(struct fiemap_extent)] = {};
    auto* map = reinterpret_cast<struct fiemap*>(buf);
    map->fm_length = FIEMAP_MAX_OFFSET;
    map->fm_flags = FIEMAP_FLAG_SYNC;
    map->fm_extent_count = 1;
    EXPECT_EQ(::ioctl(fd.get(), FS_IOC_FIEMAP, map), 0) << file;
    return map->fm_mapped_extents == 1 && (map->fm_extents[0].fe_flags & FIEMAP_EXTENT_SHARED);
}

class BtrfsStorageTest : public ::testing::Test {
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

TEST_F(BtrfsStorageTest, ReflinkSnapshotSharesExtentsInsteadOfCopying) {
    auto reflink = makeStorage(StorageKind::kReflink);
    fs::path d = dir("sharing");
    reflink->create(d / "src");
    base::writeFile(d / "src" / "big", std::string(256 * 1024, 'z'));  // too big to be inlined
    reflink->snapshot(d / "src", d / "reflinked");
    base::writeFile(d / "src" / "fresh", std::string(256 * 1024, 'z'));
    EXPECT_TRUE(firstExtentShared(d / "reflinked" / "big"));
    EXPECT_FALSE(firstExtentShared(d / "src" / "fresh"));  // the probe tells the two apart
    // (CopyStorage uses copy_file_range, which btrfs may also answer by sharing extents.)
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
        EntryPin pin =
            store.acquire("k", [](const fs::path& t) { base::writeFile(t / "f", "built"); });
        EXPECT_FALSE(pin.hit());
        SubvolumeLease job =
            SubvolumeLease::snapshotOf(*s, pin.path(), mount_->mountPoint() / "job");
        EXPECT_EQ(base::readFile(job.path() / "f"), "built");
    }
    EXPECT_FALSE(fs::exists(mount_->mountPoint() / "job"));
    EXPECT_EQ(store.prune(0), std::vector<std::string>{"k"});
    EXPECT_FALSE(fs::exists(store.dir() / "k"));
}

TEST_F(BtrfsStorageTest, CachedCheckoutCostsOneSnapshotPerJob) {
    auto s = makeStorage(StorageKind::kBtrfs);
    testing::GitTestRepo remote(dir("remote"));
    std::string commit = remote.commit({{"src/a.c", "a\n"}, {"README", "r\n"}}, "c");
    GitMirrors mirrors(dir("git"));
    CheckoutCache cache(*s, dir("checkouts"), mirrors);
    CheckoutResult first = cache.checkout({remote.url(), commit, {"src"}, {}}, dir("jobs") / "1");
    CheckoutResult second = cache.checkout({remote.url(), commit, {"src"}, {}}, dir("jobs") / "2");
    EXPECT_FALSE(first.hit);
    EXPECT_TRUE(second.hit);
    EXPECT_FALSE(second.fetched);
    struct stat st {};
    ASSERT_EQ(::stat(second.workspace.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_ino, 256u) << "the job's workspace is a snapshot subvolume";
    EXPECT_EQ(base::readFile(second.workspace.path() / "src" / "a.c"), "a\n");
    EXPECT_FALSE(fs::exists(second.workspace.path() / "README"));
}

// A job directory on another filesystem (the daemon's TMPDIR, a job's own volume) cannot hold a
// snapshot of the cache: it gets a copy, which its lease removes.
TEST_F(BtrfsStorageTest, CheckoutToAnotherFilesystemIsACopy) {
    auto s = makeStorage(StorageKind::kBtrfs);
    testing::GitTestRepo remote(dir("remote"));
    std::string commit = remote.commit({{"src/a.c", "a\n"}}, "c");
    GitMirrors mirrors(dir("git"));
    CheckoutCache cache(*s, dir("checkouts"), mirrors);
    base::TempDir elsewhere("nixjail-btrfs-job-");
    struct stat job {}, btrfs {};
    ASSERT_EQ(::stat(elsewhere.path().c_str(), &job), 0);
    ASSERT_EQ(::stat(mount_->mountPoint().c_str(), &btrfs), 0);
    ASSERT_NE(job.st_dev, btrfs.st_dev) << "the temp dir must be outside the loop mount";
    {
        CheckoutResult first = cache.checkout({remote.url(), commit, {}, {}}, elsewhere.path() / "w1");
        CheckoutResult second = cache.checkout({remote.url(), commit, {}, {}}, elsewhere.path() / "w2");
        EXPECT_TRUE(second.hit);
        EXPECT_EQ(base::readFile(second.workspace.path() / "src" / "a.c"), "a\n");
        EXPECT_EQ(base::readFile(first.workspace.path() / "src" / "a.c"), "a\n");
    }
    EXPECT_FALSE(fs::exists(elsewhere.path() / "w1"));
    EXPECT_FALSE(fs::exists(elsewhere.path() / "w2"));
}

TEST(BtrfsLoopMount, LeavesNoMountOrLoopDeviceBehind) {
    std::string reason = nixjail::testing::BtrfsLoopMount::unavailableReason();
    NIXJAIL_REQUIRE(reason.empty(), reason);
    fs::path mount_point;
    fs::path backing;
    {
        nixjail::testing::BtrfsLoopMount m(128ull << 20);
        mount_point = m.mountPoint();
        backing =
            fs::path("/sys/block") / fs::path(m.loopDevice()).filename() / "loop" / "backing_file";
        EXPECT_TRUE(fs::exists(backing));
        EXPECT_NE(base::readFile("/proc/self/mountinfo").find(mount_point.string()),
                  std::string::npos);
    }
    EXPECT_EQ(base::readFile("/proc/self/mountinfo").find(mount_point.string()), std::string::npos);
    EXPECT_FALSE(fs::exists(backing)) << "loop device still attached";
    EXPECT_FALSE(fs::exists(mount_point.parent_path()));
}

}  // namespace
}  // namespace nixjail::cache
