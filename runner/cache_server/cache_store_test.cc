// CacheStore and matchEntry without sockets: matching rules, reservations, commits, eviction,
// restart.
#include "runner/cache_server/cache_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <filesystem>

#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::runner::cache_server {
namespace {

namespace fs = std::filesystem;

CacheEntry entry(std::uint64_t id, std::string scope, std::string key, std::string version,
                 std::int64_t created) {
    return CacheEntry{id, std::move(scope), std::move(key), std::move(version),
                      1,  created,          created};
}

TEST(MatchEntry, ExactFirstKeyBeatsNewerPrefixMatch) {
    std::vector<CacheEntry> es{entry(1, "o/r", "deps-abc", "v", 10),
                               entry(2, "o/r", "deps-abcdef", "v", 20)};
    auto hit = matchEntry(es, "o/r", {"deps-abc"}, "v");
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->id, 1u);
}

TEST(MatchEntry, RestoreKeysArePrefixesNewestFirstInKeyOrder) {
    std::vector<CacheEntry> es{entry(1, "o/r", "deps-linux-1", "v", 10),
                               entry(2, "o/r", "deps-linux-2", "v", 20),
                               entry(3, "o/r", "build-x", "v", 30)};
    auto hit = matchEntry(es, "o/r", {"deps-linux-3", "deps-linux-", "build-"}, "v");
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->key, "deps-linux-2");
    hit = matchEntry(es, "o/r", {"nothing", "build-"}, "v");
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->id, 3u);
}

TEST(MatchEntry, VersionAndScopeMustMatch) {
    std::vector<CacheEntry> es{entry(1, "o/r", "k", "v1", 10)};
    EXPECT_FALSE(matchEntry(es, "o/r", {"k"}, "v2"));
    EXPECT_FALSE(matchEntry(es, "o/other", {"k"}, "v1"));
    EXPECT_FALSE(matchEntry(es, "o/r", {}, "v1"));
}

struct StoreTest : ::testing::Test {
    base::TempDir dir{"nixjail-cachestore-"};
    void put(CacheStore& s, const std::string& key, const std::string& data,
             const std::string& scope = "o/r") {
        auto id = s.reserve(scope, key, "v", data.size());
        s.writeChunk(scope, id, 0, data);
        s.commit(scope, id, data.size());
    }
};

TEST_F(StoreTest, ChunksOutOfOrderCommitAndSurviveRestart) {
    {
        CacheStore s(dir.path(), 1 << 20);
        auto id = s.reserve("o/r", "k", "v", 6);
        s.writeChunk("o/r", id, 3, "def");
        s.writeChunk("o/r", id, 0, "abc");
        s.commit("o/r", id, 6);
        EXPECT_EQ(s.counters().bytes_uploaded, 6u);
    }
    CacheStore s(dir.path(), 1 << 20);
    auto hit = s.lookup({"o/r"}, {"k"}, "v");
    ASSERT_TRUE(hit);
    auto archive = s.openArchive(hit->id);
    ASSERT_TRUE(archive);
    char buf[7]{};
    ASSERT_EQ(::pread(archive->fd.get(), buf, 6, 0), 6);
    EXPECT_STREQ(buf, "abcdef");
    EXPECT_EQ(s.counters().hits, 1u);
}

TEST_F(StoreTest, CommitWithGapOrWrongSizeIsRefused) {
    CacheStore s(dir.path(), 1 << 20);
    auto id = s.reserve("o/r", "k", "v", 0);
    s.writeChunk("o/r", id, 0, "abc");
    s.writeChunk("o/r", id, 5, "fg");
    try {
        s.commit("o/r", id, 7);
        FAIL() << "a commit with a hole must fail";
    } catch (const CacheRefused& e) {
        EXPECT_EQ(e.why(), CacheRefusal::kBadRequest);
        EXPECT_NE(std::string(e.what()).find("2 range(s)"), std::string::npos) << e.what();
    }
    s.writeChunk("o/r", id, 3, "de");
    EXPECT_THROW(s.commit("o/r", id, 6), CacheRefused);
    s.commit("o/r", id, 7);
    EXPECT_TRUE(s.lookup({"o/r"}, {"k"}, "v"));
}

TEST_F(StoreTest, DuplicateKeyIsAConflictWhileUploadingAndAfterCommit) {
    CacheStore s(dir.path(), 1 << 20);
    auto id = s.reserve("o/r", "k", "v", 1);
    try {
        s.reserve("o/r", "k", "v", 1);
        FAIL();
    } catch (const CacheRefused& e) {
        EXPECT_EQ(e.why(), CacheRefusal::kConflict);
    }
    EXPECT_NO_THROW(s.reserve("o/other", "k", "v", 1));  // another repository is independent
    s.writeChunk("o/r", id, 0, "x");
    s.commit("o/r", id, 1);
    EXPECT_THROW(s.reserve("o/r", "k", "v", 1), CacheRefused);
    EXPECT_NO_THROW(s.reserve("o/r", "k", "v2", 1));
}

TEST_F(StoreTest, AnIdleUploadNoLongerBlocksItsKey) {
    CacheStore s(dir.path(), 1 << 20, std::chrono::steady_clock::duration::zero());
    auto stale = s.reserve("o/r", "k", "v", 1);
    auto fresh = s.reserve("o/r", "k", "v", 1);
    EXPECT_NE(stale, fresh);
    EXPECT_THROW(s.writeChunk("o/r", stale, 0, "x"), CacheRefused);
    EXPECT_FALSE(fs::exists(dir.path() / "uploads" / (std::to_string(stale) + ".part")));
    s.writeChunk("o/r", fresh, 0, "y");
    s.commit("o/r", fresh, 1);
    EXPECT_TRUE(s.lookup({"o/r"}, {"k"}, "v"));
}

TEST_F(StoreTest, OversizedEntriesAndChunksAreRefused) {
    CacheStore s(dir.path(), 100);
    EXPECT_THROW(s.reserve("o/r", "big", "v", 101), CacheRefused);
    auto id = s.reserve("o/r", "k", "v", 10);
    EXPECT_THROW(s.writeChunk("o/r", id, 5, "0123456789"),
                 CacheRefused);  // beyond the declared size
    auto undeclared = s.reserve("o/r", "k2", "v", 0);
    EXPECT_THROW(s.writeChunk("o/r", undeclared, 95, "0123456789"),
                 CacheRefused);  // beyond the budget
}

TEST_F(StoreTest, EvictsLeastRecentlyUsedDownToBudget) {
    CacheStore s(dir.path(), 30);
    put(s, "a", std::string(10, 'a'));
    put(s, "b", std::string(10, 'b'));
    put(s, "c", std::string(10, 'c'));
    ASSERT_TRUE(s.lookup({"o/r"}, {"a"}, "v"));  // a is now the most recently used
    put(s, "d", std::string(10, 'd'));
    EXPECT_TRUE(s.lookup({"o/r"}, {"a"}, "v"));
    EXPECT_FALSE(s.lookup({"o/r"}, {"b"}, "v"));
    EXPECT_TRUE(s.lookup({"o/r"}, {"c"}, "v"));
    EXPECT_TRUE(s.lookup({"o/r"}, {"d"}, "v"));
    EXPECT_EQ(s.storedBytes(), 30u);
    EXPECT_EQ(s.counters().entries_evicted, 1u);
}

// The budget is a hard limit on disk use: uploads in progress count too, so two jobs saving at once
// cannot take twice the budget (an attack run took a 10 GiB cache to 12 GiB that way).
TEST_F(StoreTest, UploadsInProgressCountAgainstTheBudget) {
    CacheStore s(dir.path(), 100);
    put(s, "old", std::string(30, 'o'));
    auto first = s.reserve("o/r", "a", "v", 60);
    auto second = s.reserve("o/r", "b", "v", 60);
    s.writeChunk("o/r", first, 0, std::string(60, 'a'));
    // 30 stored + 60 uploading: the second upload's first chunk evicts the old entry...
    s.writeChunk("o/r", second, 0, std::string(20, 'b'));
    EXPECT_FALSE(s.lookup({"o/r"}, {"old"}, "v"));
    // ... and the rest would take the disk past the budget while the first is still uploading.
    try {
        s.writeChunk("o/r", second, 20, std::string(40, 'b'));
        FAIL() << "the budget was exceeded";
    } catch (const CacheRefused& e) {
        EXPECT_EQ(e.why(), CacheRefusal::kTooLarge);
        EXPECT_NE(std::string(e.what()).find("the cache is full"), std::string::npos) << e.what();
    }
    std::uintmax_t onDisk = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir.path())) {
        if (e.is_regular_file() && e.path().extension() != ".json") onDisk += e.file_size();
    }
    EXPECT_LE(onDisk, 100u);
    s.commit("o/r", first, 60);
    s.abandon(second);
    EXPECT_EQ(s.storedBytes(), 60u);
}

// An upload that went past its entry's limit can never be committed: it is dropped at once, so
// its bytes do not hold the budget until it goes idle.
TEST_F(StoreTest, AChunkBeyondTheEntrysLimitDropsTheUpload) {
    CacheStore s(dir.path(), 100);
    auto id = s.reserve("o/r", "k", "v", 10);
    s.writeChunk("o/r", id, 0, std::string(10, 'x'));
    EXPECT_THROW(s.writeChunk("o/r", id, 10, "y"), CacheRefused);
    EXPECT_TRUE(fs::is_empty(dir.path() / "uploads"));
    EXPECT_THROW(s.commit("o/r", id, 10), CacheRefused);
    EXPECT_NO_THROW(s.reserve("o/r", "k", "v", 10));
}

TEST_F(StoreTest, AnIdleUploadGivesWayToOneThatNeedsTheRoom) {
    CacheStore s(dir.path(), 100, std::chrono::steady_clock::duration::zero());
    auto stale = s.reserve("o/r", "a", "v", 0);
    s.writeChunk("o/r", stale, 0, std::string(80, 'a'));
    auto fresh = s.reserve("o/r", "b", "v", 0);
    s.writeChunk("o/r", fresh, 0, std::string(80, 'b'));
    s.commit("o/r", fresh, 80);
    EXPECT_THROW(s.writeChunk("o/r", stale, 80, "x"), CacheRefused);
    EXPECT_EQ(s.storedBytes(), 80u);
}

TEST_F(StoreTest, HalfUploadsAreRemovedOnRestartAndOnClose) {
    {
        CacheStore s(dir.path(), 1 << 20);
        auto id = s.reserve("o/r", "k", "v", 10);
        s.writeChunk("o/r", id, 0, "01234");
        EXPECT_FALSE(fs::is_empty(dir.path() / "uploads"));
    }
    EXPECT_TRUE(fs::is_empty(dir.path() / "uploads"));
    // A crash leaves the part file; the next start removes it, and the key can be saved again.
    base::writeFile(dir.path() / "uploads" / "7.part", "stale");
    base::writeFile(dir.path() / "entries" / "8.archive", "no index file: crashed mid-commit");
    CacheStore s(dir.path(), 1 << 20);
    EXPECT_TRUE(fs::is_empty(dir.path() / "uploads"));
    EXPECT_FALSE(fs::exists(dir.path() / "entries" / "8.archive"));
    EXPECT_FALSE(s.lookup({"o/r"}, {"k"}, "v"));
    EXPECT_GT(s.reserve("o/r", "k", "v", 1), 8u);
}

// A full disk, played by RLIMIT_FSIZE (EFBIG instead of ENOSPC, without root or a small
// filesystem): the chunk is refused with the reason, and nothing half-written is ever served.
TEST_F(StoreTest, AFullDiskRefusesTheChunkAndServesNoCorruptEntry) {
    CacheStore s(dir.path(), 1 << 20);
    auto id = s.reserve("o/r", "k", "v", 8192);
    rlimit old{};
    ::getrlimit(RLIMIT_FSIZE, &old);
    auto oldHandler = ::signal(SIGXFSZ, SIG_IGN);
    rlimit tiny{4096, old.rlim_max};
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tiny), 0);
    try {
        s.writeChunk("o/r", id, 0, std::string(8192, 'x'));
        ADD_FAILURE() << "a write beyond the file size limit must fail";
    } catch (const CacheRefused& e) {
        EXPECT_EQ(e.why(), CacheRefusal::kStorage);
        EXPECT_NE(std::string(e.what()).find("cannot write to"), std::string::npos) << e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &old);
    ::signal(SIGXFSZ, oldHandler);
    EXPECT_THROW(s.commit("o/r", id, 8192), CacheRefused);
    EXPECT_FALSE(s.lookup({"o/r"}, {"k"}, "v"));
    // The upload was dropped with its part file, so its space is free and its key too.
    EXPECT_TRUE(fs::is_empty(dir.path() / "uploads"));
    EXPECT_NO_THROW(s.reserve("o/r", "k", "v", 8192));
}

}  // namespace
}  // namespace nixjail::runner::cache_server
