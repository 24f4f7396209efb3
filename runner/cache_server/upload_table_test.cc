// UploadTable without CacheStore: claiming a key, writes and their bytes on disk, finishing, and
// the part files' clean-up.
#include "runner/cache_server/upload_table.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/cache_server/cache_refused.h"

namespace nixjail::runner::cache_server {
namespace {

namespace fs = std::filesystem;
using std::chrono::steady_clock;

struct UploadTableTest : ::testing::Test {
    base::TempDir dir{"nixjail-uploadtable-"};
    fs::path uploads() { return dir.path() / "uploads"; }
    UploadTableTest() { fs::create_directories(uploads()); }
};

TEST_F(UploadTableTest, AnActiveUploadHoldsItsKeyAnIdleOneGivesItUp) {
    UploadTable active(uploads(), std::chrono::hours(1));
    active.start(1, {"o/r", "k", "v"}, 0);
    try {
        active.claim({"o/r", "k", "v"});
        FAIL() << "the key is being uploaded";
    } catch (const CacheRefused& e) {
        EXPECT_EQ(e.why(), CacheRefusal::kConflict);
    }
    EXPECT_NO_THROW(active.claim({"o/r", "k", "v2"}));
    EXPECT_NO_THROW(active.claim({"o/other", "k", "v"}));

    fs::create_directories(dir.path() / "idle");
    UploadTable idle(dir.path() / "idle", steady_clock::duration::zero());
    idle.start(1, {"o/r", "k", "v"}, 0);
    idle.claim({"o/r", "k", "v"});
    EXPECT_THROW(idle.find("o/r", 1), CacheRefused);
    EXPECT_FALSE(fs::exists(dir.path() / "idle" / "1.part"));
}

TEST_F(UploadTableTest, BytesFollowTheFurthestChunkOfEachUpload) {
    UploadTable t(uploads(), std::chrono::hours(1));
    t.start(1, {"o/r", "a", "v"}, 0);
    t.start(2, {"o/r", "b", "v"}, 0);
    t.write(1, 5, "fgh");
    t.write(1, 0, "abcde");
    t.write(2, 0, "xy");
    EXPECT_EQ(t.bytes(), 10u);
    EXPECT_EQ(t.find("o/r", 1).high, 8u);
    t.drop(2);
    EXPECT_EQ(t.bytes(), 8u);
    EXPECT_THROW(t.find("o/other", 1), CacheRefused);  // another repository's upload
}

TEST_F(UploadTableTest, FinishMovesTheCompleteFileAndRefusesAnIncompleteOne) {
    UploadTable t(uploads(), std::chrono::hours(1));
    t.start(4, {"o/r", "k", "v"}, 6);
    t.write(4, 0, "abc");
    const auto target = dir.path() / "4.archive";
    try {
        t.finish(4, 6, target);
        FAIL() << "half the bytes are missing";
    } catch (const CacheRefused& e) {
        EXPECT_EQ(e.why(), CacheRefusal::kBadRequest);
        EXPECT_NE(std::string(e.what()).find("3 bytes in 1 range(s)"), std::string::npos)
            << e.what();
    }
    t.write(4, 3, "def");
    const auto name = t.finish(4, 6, target);
    EXPECT_EQ(name, (CacheKey{"o/r", "k", "v"}));
    EXPECT_EQ(base::readFile(target), "abcdef");
    EXPECT_EQ(t.bytes(), 0u);
    EXPECT_THROW(t.find("o/r", 4), CacheRefused);
    EXPECT_TRUE(fs::is_empty(uploads()));
}

TEST_F(UploadTableTest, DropOneIdleSparesTheGivenUpload) {
    UploadTable t(uploads(), steady_clock::duration::zero());
    t.start(1, {"o/r", "a", "v"}, 0);
    t.start(2, {"o/r", "b", "v"}, 0);
    EXPECT_TRUE(t.dropOneIdle(1));
    EXPECT_FALSE(t.dropOneIdle(1));
    EXPECT_NO_THROW(t.find("o/r", 1));
}

TEST_F(UploadTableTest, PartFilesGoAtStartAndWithTheTable) {
    base::writeFile(uploads() / "7.part", "left by a crash");
    {
        UploadTable t(uploads(), std::chrono::hours(1));
        EXPECT_TRUE(fs::is_empty(uploads()));
        EXPECT_EQ(t.nextIdOnDisk(), 8u);
        t.start(8, {"o/r", "k", "v"}, 0);
        t.write(8, 0, "x");
        EXPECT_FALSE(fs::is_empty(uploads()));
    }
    EXPECT_TRUE(fs::is_empty(uploads()));
}

}  // namespace
}  // namespace nixjail::runner::cache_server
