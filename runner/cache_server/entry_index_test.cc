// EntryIndex without CacheStore: what survives a restart, what is dropped as an orphan, LRU order.
#include "runner/cache_server/entry_index.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::runner::cache_server {
namespace {

namespace fs = std::filesystem;

struct EntryIndexTest : ::testing::Test {
    base::TempDir dir{"nixjail-entryindex-"};
    // Puts an archive in place and publishes it, as a commit does.
    CacheEntry put(EntryIndex& index, std::uint64_t id, const std::string& key,
                   const std::string& data) {
        base::writeFile(index.archivePath(id), data);
        return index.add(id, "o/r", key, "v", data.size());
    }
};

TEST_F(EntryIndexTest, EntriesSurviveARestartAndOrphansAreDropped) {
    {
        EntryIndex index(dir.path());
        put(index, 3, "a", "abc");
        put(index, 4, "b", "de");
        EXPECT_EQ(index.bytes(), 5u);
    }
    base::writeFile(dir.path() / "9.archive", "no index file: crashed mid-commit");
    base::writeFile(dir.path() / "4.archive", "truncated");  // no longer the recorded size
    base::writeFile(dir.path() / "5.json", "{not json");
    EntryIndex index(dir.path());
    EXPECT_TRUE(index.find(3));
    EXPECT_FALSE(index.find(4));
    EXPECT_EQ(index.bytes(), 3u);
    EXPECT_TRUE(index.holds("o/r", "a", "v"));
    EXPECT_FALSE(index.holds("o/r", "a", "v2"));
    EXPECT_FALSE(index.holds("o/other", "a", "v"));
    EXPECT_FALSE(fs::exists(dir.path() / "9.archive"));
    EXPECT_FALSE(fs::exists(dir.path() / "4.json"));
    EXPECT_FALSE(fs::exists(dir.path() / "5.json"));
    EXPECT_EQ(index.nextIdOnDisk(), 10u);  // dropped files' ids are not handed out again
}

TEST_F(EntryIndexTest, TheLeastRecentlyUsedGoesFirstAndTouchingAnEntrySavesIt) {
    std::uint64_t used_last = 0;
    {
        EntryIndex index(dir.path());
        put(index, 1, "a", "1");
        put(index, 2, "b", "2");
        put(index, 3, "c", "3");
        EXPECT_EQ(index.leastRecentlyUsed(), 1u);
        used_last = index.touch(1).last_used_ms;
        EXPECT_EQ(index.leastRecentlyUsed(), 2u);
        EXPECT_EQ(index.leastRecentlyUsed(2), 3u);
    }
    EntryIndex index(dir.path());
    EXPECT_EQ(index.find(1)->last_used_ms, used_last);
    EXPECT_EQ(index.leastRecentlyUsed(), 2u);
    // The clock goes on from the newest use on disk, so a later use orders after it.
    EXPECT_GT(index.touch(2).last_used_ms, used_last);
}

TEST_F(EntryIndexTest, RemoveDeletesBothFiles) {
    EntryIndex index(dir.path());
    put(index, 1, "a", "xyz");
    index.remove(1);
    index.remove(1);  // gone already: nothing to do
    EXPECT_FALSE(index.find(1));
    EXPECT_EQ(index.bytes(), 0u);
    EXPECT_FALSE(index.leastRecentlyUsed());
    EXPECT_TRUE(fs::is_empty(dir.path()));
}

}  // namespace
}  // namespace nixjail::runner::cache_server
