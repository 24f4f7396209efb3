// EntryStore: build once, hits, half-built entries, concurrent builders, LRU eviction with pins.
#include "workspace-cache/entry_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::cache {
namespace {

namespace fs = std::filesystem;

class EntryStoreTest : public ::testing::Test {
  protected:
    base::TempDir dir_{"nixjail-cache-test-"};
    std::unique_ptr<Storage> storage_ = makeStorage(StorageKind::kCopy);
    EntryStore store_{*storage_, dir_.path() / "entries"};

    EntryStore::Builder writer(std::string content, std::atomic<int>* builds = nullptr) {
        return [content, builds](const fs::path& tree) {
            if (builds) ++*builds;
            base::writeFile(tree / "content", content);
        };
    }
    void setLastUsed(const std::string& key, time_t when) {
        struct timespec ts[2] = {{when, 0}, {when, 0}};
        ASSERT_EQ(::utimensat(AT_FDCWD, (store_.dir() / (key + ".done")).c_str(), ts, 0), 0);
    }
};

TEST_F(EntryStoreTest, BuildsOnMissThenHits) {
    std::atomic<int> builds = 0;
    {
        EntryPin pin = store_.acquire("k1", writer("one", &builds));
        EXPECT_FALSE(pin.hit());
        EXPECT_EQ(base::readFile(pin.path() / "content"), "one");
    }
    EntryPin again = store_.acquire("k1", writer("other", &builds));
    EXPECT_TRUE(again.hit());
    EXPECT_EQ(base::readFile(again.path() / "content"), "one");
    EXPECT_EQ(builds, 1);
}

TEST_F(EntryStoreTest, FailedBuildLeavesNothingAndIsRetried) {
    EXPECT_THROW(store_.acquire("k", [](const fs::path&) { throw base::Error("boom"); }),
                 base::Error);
    EXPECT_FALSE(fs::exists(store_.dir() / "k"));
    EXPECT_TRUE(fs::is_empty(store_.dir() / "tmp"));
    EXPECT_TRUE(store_.list().empty());
    EXPECT_FALSE(store_.acquire("k", writer("ok")).hit());
}

TEST_F(EntryStoreTest, HalfBuiltEntryWithoutMarkerIsRebuilt) {
    { EntryPin pin = store_.acquire("k", writer("good")); }
    // A crash after promote but before the marker, plus a stale tmp tree from another crash.
    fs::remove(store_.dir() / "k.done");
    base::writeFile(store_.dir() / "k" / "content", "half");
    fs::create_directories(store_.dir() / "tmp" / "k");
    EntryPin pin = store_.acquire("k", writer("rebuilt"));
    EXPECT_FALSE(pin.hit());
    EXPECT_EQ(base::readFile(pin.path() / "content"), "rebuilt");
}

TEST_F(EntryStoreTest, MarkerWithoutTreeIsRebuilt) {
    { EntryPin pin = store_.acquire("k", writer("good")); }
    storage_->remove(store_.dir() / "k");
    EntryPin pin = store_.acquire("k", writer("again"));
    EXPECT_FALSE(pin.hit());
    EXPECT_EQ(base::readFile(pin.path() / "content"), "again");
}

TEST_F(EntryStoreTest, ConcurrentThreadsBuildOnce) {
    std::atomic<int> builds = 0;
    std::atomic<int> hits = 0;
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&] {
            EntryPin pin = store_.acquire("shared", writer("x", &builds));
            if (pin.hit()) ++hits;
            EXPECT_EQ(base::readFile(pin.path() / "content"), "x");
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(builds, 1);
    EXPECT_EQ(hits, 7);
}

TEST_F(EntryStoreTest, ConcurrentProcessesBuildOnce) {
    // Each child reports through its exit code whether it built (1) or hit (0).
    std::vector<pid_t> pids;
    for (int i = 0; i < 4; ++i) {
        pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            int code = 2;
            try {
                EntryPin pin = store_.acquire("proc", writer("p"));
                code = pin.hit() ? 0 : 1;
            } catch (...) {
            }
            ::_exit(code);
        }
        pids.push_back(pid);
    }
    int built = 0;
    for (pid_t pid : pids) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_NE(WEXITSTATUS(status), 2);
        built += WEXITSTATUS(status);
    }
    EXPECT_EQ(built, 1);
}

TEST_F(EntryStoreTest, PruneEvictsLeastRecentlyUsedFirstAndSkipsPinned) {
    std::string big(64 * 1024, 'x');
    for (auto key : {"old", "mid", "new"}) {
        EntryPin pin = store_.acquire(key, writer(big));
    }
    setLastUsed("old", 1000);
    setLastUsed("mid", 2000);
    setLastUsed("new", 3000);
    auto entries = store_.list();
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[0].key, "old");
    std::uint64_t one = entries[0].size_bytes;
    EXPECT_GE(one, big.size());

    EntryPin pinned = store_.acquire("old", writer(big));  // a running job uses "old"
    setLastUsed("old", 1000);
    EXPECT_TRUE(store_.list()[0].in_use);
    auto removed = store_.prune(2 * one);
    EXPECT_EQ(removed, std::vector<std::string>{"mid"});
    EXPECT_TRUE(fs::exists(store_.dir() / "old"));
    EXPECT_FALSE(fs::exists(store_.dir() / "mid"));
    EXPECT_TRUE(fs::exists(store_.dir() / "new"));
    EXPECT_TRUE(store_.prune(0) == std::vector<std::string>{"new"});
}

TEST_F(EntryStoreTest, PruneRemovesHalfBuiltLeftovers) {
    fs::create_directories(store_.dir() / "crashed");
    fs::create_directories(store_.dir() / "tmp" / "dead-builder" / "sub");
    EXPECT_EQ(store_.prune(1u << 30), (std::vector<std::string>{"crashed", "tmp/dead-builder"}));
    EXPECT_FALSE(fs::exists(store_.dir() / "crashed"));
    EXPECT_TRUE(fs::is_empty(store_.dir() / "tmp"));
}

TEST_F(EntryStoreTest, RejectsKeysThatAreNotPlainNames) {
    EXPECT_THROW(store_.acquire("../escape", writer("x")), base::Error);
    EXPECT_THROW(store_.acquire("tmp", writer("x")), base::Error);
}

}  // namespace
}  // namespace nixjail::cache
