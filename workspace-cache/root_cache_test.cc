// RootCache with a fake closure made of plain directories and the copy backend.
#include "workspace-cache/root_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <thread>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "workspace-cache/closure.h"

namespace nixjail::cache {
namespace {

namespace fs = std::filesystem;

class RootCacheTest : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(store_ / "aaa-bash" / "bin");
        base::writeFile(store_ / "aaa-bash" / "bin" / "bash", "#!fake\n");
        fs::create_symlink("bash", store_ / "aaa-bash" / "bin" / "sh");
        fs::create_directories(store_ / "bbb-coreutils" / "bin");
        base::writeFile(store_ / "bbb-coreutils" / "bin" / "env", "fake env\n");
        fs::create_directories(store_ / "ccc-data" / "share");
        base::writeFile(store_ / "ccc-data" / "share" / "x", "data\n");
    }
    std::string p(const char* name) { return (store_ / name).string(); }

    base::TempDir dir_{"nixjail-cache-test-"};
    fs::path store_ = dir_.path() / "store";
    std::unique_ptr<Storage> storage_ = makeStorage(StorageKind::kCopy);
    RootCache cache_{*storage_, dir_.path() / "roots"};
};

TEST_F(RootCacheTest, BuildsRootWithClosureEtcLinksAndMountPoints) {
    std::vector<std::string> closure = {p("aaa-bash"), p("bbb-coreutils")};
    RootLease lease = cache_.acquire(closure);
    EXPECT_FALSE(lease.hit());
    EXPECT_EQ(lease.key(), closureKey(closure));
    const fs::path& r = lease.root();
    EXPECT_EQ(base::readFile(r / fs::path(p("aaa-bash")).relative_path() / "bin" / "bash"),
              "#!fake\n");
    EXPECT_EQ(fs::read_symlink(r / "bin" / "sh"), p("aaa-bash") + "/bin/sh");
    EXPECT_EQ(fs::read_symlink(r / "usr" / "bin" / "env"), p("bbb-coreutils") + "/bin/env");
    std::string passwd = base::readFile(r / "etc" / "passwd");
    EXPECT_NE(passwd.find("root:x:0:0:"), std::string::npos);
    EXPECT_NE(passwd.find("runner:x:1000:1000:"), std::string::npos);
    EXPECT_NE(base::readFile(r / "etc" / "group").find("runner:x:1000:"), std::string::npos);
    EXPECT_NE(base::readFile(r / "etc" / "hosts").find("localhost"), std::string::npos);
    EXPECT_TRUE(fs::exists(r / "etc" / "nsswitch.conf"));
    EXPECT_EQ(base::readFile(r / "etc" / "resolv.conf").find("nameserver"), std::string::npos);
    EXPECT_TRUE(fs::is_regular_file(r / kCaBundlePath));
    for (auto d : {"tmp", "workspace", "proc", "dev", "sys", "home/runner"})
        EXPECT_TRUE(fs::is_directory(r / d)) << d;
    struct stat st {};
    ASSERT_EQ(::stat((r / "tmp").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 01777u);
    EXPECT_EQ(lease.binPath(), p("aaa-bash") + "/bin:" + p("bbb-coreutils") + "/bin");
}

TEST_F(RootCacheTest, SameClosureHitsInAnyOrder) {
    { RootLease first = cache_.acquire({p("aaa-bash"), p("ccc-data")}); }
    RootLease second = cache_.acquire({p("ccc-data"), p("aaa-bash")});
    EXPECT_TRUE(second.hit());
    EXPECT_EQ(cache_.list().size(), 1u);
}

TEST_F(RootCacheTest, ClosureWithoutShellIsRefusedAndLeavesNoEntry) {
    try {
        cache_.acquire({p("ccc-data")});
        FAIL() << "root without a shell was built";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("has no shell"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(cache_.list().empty());
}

TEST_F(RootCacheTest, SnapshotPerJobIsWritableAndIndependent) {
    RootLease lease = cache_.acquire({p("aaa-bash")});
    {
        SubvolumeLease job = lease.snapshotTo(dir_.path() / "job1");
        base::writeFile(job.path() / kCaBundlePath, "PEM");
        EXPECT_EQ(base::readFile(lease.root() / kCaBundlePath), "");
    }
    EXPECT_FALSE(fs::exists(dir_.path() / "job1"));
}

TEST_F(RootCacheTest, PinnedRootSurvivesPrune) {
    RootLease lease = cache_.acquire({p("aaa-bash")});
    EXPECT_TRUE(cache_.prune(0).empty());
    EXPECT_TRUE(fs::exists(lease.root() / "bin"));
}

TEST_F(RootCacheTest, ConcurrentJobsBuildTheRootOnce) {
    std::atomic<int> misses = 0;
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i)
        threads.emplace_back([&] {
            RootLease lease = cache_.acquire({p("bbb-coreutils"), p("aaa-bash")});
            if (!lease.hit()) ++misses;
            EXPECT_TRUE(fs::is_symlink(lease.root() / "bin" / "sh"));
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(misses, 1);
}

TEST_F(RootCacheTest, HalfBuiltRootIsRebuilt) {
    std::string key;
    {
        RootLease lease = cache_.acquire({p("aaa-bash")});
        key = lease.key();
    }
    // A crash between filling the tree and writing the marker.
    fs::remove(dir_.path() / "roots" / (key + ".done"));
    fs::remove(dir_.path() / "roots" / key / "etc" / "passwd");
    RootLease lease = cache_.acquire({p("aaa-bash")});
    EXPECT_FALSE(lease.hit());
    EXPECT_TRUE(fs::exists(lease.root() / "etc" / "passwd"));
}

}  // namespace
}  // namespace nixjail::cache
