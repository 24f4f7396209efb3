// The artifact server's path checks: what may name a file under the run's directory.
#include "runner/artifact_server/item_path.h"

#include <gtest/gtest.h>

namespace nixjail::runner::artifact_server {
namespace {

TEST(CleanItemPath, AcceptsRelativePaths) {
    EXPECT_EQ(cleanItemPath("dist/app.tar.gz"), "dist/app.tar.gz");
    EXPECT_EQ(cleanItemPath("a/b c/..d/e.."), "a/b c/..d/e..");
    EXPECT_EQ(cleanItemPath("x"), "x");
}

TEST(CleanItemPath, RejectsEscapesAndOddShapes) {
    for (std::string_view bad : {"", "/etc/passwd", "../x", "a/../../x", "a/..", "..", ".", "a/./b",
                                 "a//b", "a/", "a\\..\\b", "a\\b", "new\nline", "tab\tx"}) {
        EXPECT_FALSE(cleanItemPath(bad)) << bad;
    }
    EXPECT_FALSE(cleanItemPath(std::string_view("a\0b", 3)));
    EXPECT_FALSE(cleanItemPath(std::string(1025, 'a')));
    EXPECT_FALSE(cleanItemPath(std::string(256, 'a')));
    EXPECT_TRUE(cleanItemPath(std::string(255, 'a')));
}

TEST(IsSafeName, OneComponentOnly) {
    EXPECT_TRUE(isSafeName("my-artifact"));
    EXPECT_TRUE(isSafeName("12345"));
    EXPECT_FALSE(isSafeName("a/b"));
    EXPECT_FALSE(isSafeName(".."));
    EXPECT_FALSE(isSafeName(""));
}

TEST(PercentCoding, RoundTripsAndRejectsMalformedEscapes) {
    EXPECT_EQ(percentDecode("a%2Fb%20c"), "a/b c");
    EXPECT_EQ(percentDecode("%2e%2E"), "..");
    EXPECT_FALSE(percentDecode("a%2"));
    EXPECT_FALSE(percentDecode("a%zz"));
    EXPECT_FALSE(percentDecode("%"));
    EXPECT_EQ(percentEncodePath("dir/a b+%.txt"), "dir/a%20b%2B%25.txt");
    EXPECT_EQ(percentDecode(percentEncodePath("x/\xc3\xa9 ?#")), "x/\xc3\xa9 ?#");
}

}  // namespace
}  // namespace nixjail::runner::artifact_server
