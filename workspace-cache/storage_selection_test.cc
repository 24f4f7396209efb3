// Choosing a backend by configuration: "auto" detects, a forced backend is proven to work in the
// directory or refused with a message naming the directory, the backend and what to do.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/statfs.h>

#include <string>

#include "runner/base/error.h"
#include "runner/base/temp_dir.h"
#include "workspace-cache/cache_set.h"
#include "workspace-cache/storage.h"

namespace nixjail::cache {
namespace {

namespace fs = std::filesystem;

unsigned long filesystemOf(const fs::path& p) {
    struct statfs sfs {};
    EXPECT_EQ(::statfs(p.c_str(), &sfs), 0) << p;
    return static_cast<unsigned long>(sfs.f_type);
}

std::string openError(const fs::path& dir, StorageKind kind) {
    try {
        openStorage(dir, kind);
    } catch (const base::Error& e) {
        return e.what();
    }
    return {};
}

TEST(StorageChoice, AutoDetectsAndNamesSelectABackend) {
    EXPECT_EQ(parseStorageChoice("auto", "--storage"), std::nullopt);
    EXPECT_EQ(parseStorageChoice("btrfs", "--storage"), StorageKind::kBtrfs);
    EXPECT_EQ(parseStorageChoice("reflink", "--storage"), StorageKind::kReflink);
    EXPECT_EQ(parseStorageChoice("copy", "--storage"), StorageKind::kCopy);
    try {
        parseStorageChoice("zfs", "--storage");
        FAIL() << "zfs accepted";
    } catch (const base::Error& e) {
        EXPECT_STREQ(e.what(),
                     "--storage: unknown storage 'zfs'; use auto, btrfs, reflink or copy");
    }
}

TEST(OpenStorage, ForcedCopyWorksAnywhereAndAutoDetects) {
    base::TempDir dir("nixjail-storage-choice-");
    EXPECT_EQ(openStorage(dir.path(), StorageKind::kCopy)->kind(), StorageKind::kCopy);
    EXPECT_EQ(openStorage(dir.path(), std::nullopt)->kind(), detectStorageKind(dir.path()));
    EXPECT_TRUE(fs::is_empty(dir.path()));  // the probes leave nothing behind
}

TEST(OpenStorage, ForcedBtrfsOutsideBtrfsFailsNamingDirectoryAndFix) {
    base::TempDir dir("nixjail-storage-choice-");
    if (filesystemOf(dir.path()) == BTRFS_SUPER_MAGIC) GTEST_SKIP() << "the temp dir is on btrfs";
    const std::string msg = openError(dir.path(), StorageKind::kBtrfs);
    EXPECT_NE(msg.find("cache directory '" + dir.path().string() + "' cannot use storage 'btrfs'"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find(", not btrfs; move the cache directory onto a btrfs filesystem"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("cache.storage"), std::string::npos) << msg;
    EXPECT_TRUE(fs::is_empty(dir.path()));
}

// ext4 (the usual temp dir) and tmpfs (/dev/shm) have no FICLONE.
TEST(OpenStorage, ForcedReflinkWithoutFicloneFailsNamingDirectoryAndFix) {
    int checked = 0;
    for (const fs::path& parent : {fs::temp_directory_path(), fs::path("/dev/shm")}) {
        if (!fs::is_directory(parent)) continue;
        const unsigned long type = filesystemOf(parent);
        if (type != EXT4_SUPER_MAGIC && type != TMPFS_MAGIC) continue;
        base::TempDir dir("nixjail-storage-choice-", parent);
        const std::string msg = openError(dir.path(), StorageKind::kReflink);
        const std::string fsName = type == TMPFS_MAGIC ? "tmpfs" : "ext4";
        EXPECT_NE(msg.find("cache directory '" + dir.path().string() +
                           "' cannot use storage 'reflink': its filesystem (" + fsName +
                           ") cannot share file extents (FICLONE: "),
                  std::string::npos)
            << msg;
        EXPECT_NE(msg.find("move the cache directory onto XFS (reflink=1) or btrfs"),
                  std::string::npos)
            << msg;
        EXPECT_TRUE(fs::is_empty(dir.path()));
        ++checked;
    }
    if (checked == 0) GTEST_SKIP() << "neither the temp dir nor /dev/shm is ext4 or tmpfs";
}

// On ext4 and tmpfs, which share no extents, auto is copy without probing: nothing is written,
// so even a read-only cache directory there is told apart (root: the read-only tmpfs).
TEST(StorageChoice, AutoKnowsExt4AndTmpfsCopyWithoutProbing) {
    base::TempDir dir("nixjail-storage-choice-");
    if (const auto type = filesystemOf(dir.path()); type == EXT4_SUPER_MAGIC || type == TMPFS_MAGIC) {
        EXPECT_EQ(detectStorageKind(dir.path()), StorageKind::kCopy);
        EXPECT_TRUE(fs::is_empty(dir.path()));
    }
    if (::geteuid() != 0) GTEST_SKIP() << "needs root for the read-only tmpfs";
    ASSERT_EQ(::mount("tmpfs", dir.path().c_str(), "tmpfs", MS_RDONLY, "size=1m"), 0);
    StorageKind kind = StorageKind::kBtrfs;
    EXPECT_NO_THROW(kind = detectStorageKind(dir.path()));
    ::umount2(dir.path().c_str(), MNT_DETACH);
    EXPECT_EQ(kind, StorageKind::kCopy);
}

TEST(CacheSet, UsesTheForcedBackendAndRefusesOneThatCannotWork) {
    base::TempDir dir("nixjail-storage-choice-");
    CacheSet copy(dir.path() / "c", StorageKind::kCopy);
    EXPECT_EQ(copy.storage().kind(), StorageKind::kCopy);
    if (filesystemOf(dir.path()) != BTRFS_SUPER_MAGIC) {
        EXPECT_THROW(CacheSet(dir.path() / "b", StorageKind::kBtrfs), base::Error);
    }
}

}  // namespace
}  // namespace nixjail::cache
