// Storage backends on the test machine's own filesystem: copy always, reflink where it works.
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/statfs.h>

#include "runner/base/temp_dir.h"
#include "workspace-cache/storage_conformance.h"

namespace nixjail::cache {
namespace {

namespace fs = std::filesystem;

TEST(StorageKind, ParsesAndPrintsEveryKind) {
    for (auto k : {StorageKind::kBtrfs, StorageKind::kReflink, StorageKind::kCopy})
        EXPECT_EQ(parseStorageKind(toString(k)), k);
    EXPECT_EQ(parseStorageKind("zfs"), std::nullopt);
}

TEST(CopyStorage, PassesConformanceSuite) {
    base::TempDir dir("nixjail-cache-test-");
    auto s = makeStorage(StorageKind::kCopy);
    testing::runStorageConformance(*s, dir.path());
}

TEST(DetectStorage, ProbesWithoutLeavingAnythingBehind) {
    base::TempDir dir("nixjail-cache-test-");
    StorageKind kind = detectStorageKind(dir.path());
    struct statfs sfs {};
    ASSERT_EQ(::statfs(dir.path().c_str(), &sfs), 0);
    if (static_cast<unsigned long>(sfs.f_type) == EXT4_SUPER_MAGIC) {
        EXPECT_EQ(kind, StorageKind::kCopy);
    }
    EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(ReflinkStorage, EitherPassesOrFailsNamingTheFixOnThisFilesystem) {
    base::TempDir dir("nixjail-cache-test-");
    auto s = makeStorage(StorageKind::kReflink);
    if (detectStorageKind(dir.path()) != StorageKind::kCopy) {
        testing::runStorageConformance(*s, dir.path());
        return;
    }
    s->create(dir.path() / "src");
    base::writeFile(dir.path() / "src" / "f", "data");
    try {
        s->snapshot(dir.path() / "src", dir.path() / "dst");
        FAIL() << "reflink snapshot succeeded on a filesystem without FICLONE";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("set cache.storage: copy"), std::string::npos)
            << e.what();
    }
    // copyIn falls back to copying data, since store paths usually live on another filesystem.
    s->copyIn(dir.path() / "src", dir.path() / "copied");
    EXPECT_EQ(base::readFile(dir.path() / "copied" / "f"), "data");
}

TEST(BtrfsStorage, FailsWithAHintOutsideBtrfs) {
    base::TempDir dir("nixjail-cache-test-");
    struct statfs sfs {};
    ASSERT_EQ(::statfs(dir.path().c_str(), &sfs), 0);
    if (static_cast<unsigned long>(sfs.f_type) == BTRFS_SUPER_MAGIC)
        GTEST_SKIP() << "temp dir is on btrfs";
    auto s = makeStorage(StorageKind::kBtrfs);
    try {
        s->create(dir.path() / "sub");
        FAIL() << "subvolume create succeeded outside btrfs";
    } catch (const base::SysError& e) {
        EXPECT_NE(std::string(e.what()).find("is the cache on btrfs?"), std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace nixjail::cache
