#include "runner/base/temp_dir.h"

#include <gtest/gtest.h>

#include "runner/base/file_io.h"

namespace nixjail::base {
namespace {

TEST(TempDir, RemovesItsTreeWhenDestroyed) {
    std::filesystem::path p;
    {
        TempDir dir;
        p = dir.path();
        std::filesystem::create_directories(p / "a/b");
        writeFile(p / "a/b/c", "x");
    }
    EXPECT_FALSE(std::filesystem::exists(p));
}

TEST(TempDir, KeepLeavesTheDirectory) {
    std::filesystem::path p;
    {
        TempDir dir;
        p = dir.path();
        dir.keep();
    }
    EXPECT_TRUE(std::filesystem::exists(p));
    std::filesystem::remove_all(p);
}

TEST(FileIo, AtomicWriteReplacesContent) {
    TempDir dir;
    writeFileAtomic(dir.path() / "f", "one");
    writeFileAtomic(dir.path() / "f", "two");
    EXPECT_EQ(readFile(dir.path() / "f"), "two");
}

}  // namespace
}  // namespace nixjail::base
