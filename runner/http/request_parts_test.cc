// Query, Content-Range and Range parsing.
#include "runner/http/request_parts.h"

#include <gtest/gtest.h>

namespace nixjail::runner::http {
namespace {

TEST(QueryParam, DecodesPercentEscapesAndFindsByName) {
    EXPECT_EQ(queryParam("/x?keys=a%2Cb&version=v1", "keys"), "a,b");
    EXPECT_EQ(queryParam("/x?keys=a%2Cb&version=v1", "version"), "v1");
    EXPECT_FALSE(queryParam("/x?keys=a", "version"));
    EXPECT_FALSE(queryParam("/x?keys=%4", "keys"));
    EXPECT_FALSE(queryParam("/x", "keys"));
}

TEST(ContentRange, AcceptsUploadChunkForms) {
    auto r = parseContentRange("bytes 0-99/*");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->first, 0u);
    EXPECT_EQ(r->last, 99u);
    EXPECT_TRUE(parseContentRange("bytes 5-9/10"));
    EXPECT_FALSE(parseContentRange("bytes 5-9/9"));
    EXPECT_FALSE(parseContentRange("bytes 9-5/*"));
    EXPECT_FALSE(parseContentRange("items 0-1/*"));
    EXPECT_FALSE(parseContentRange("bytes 0-x/*"));
}

TEST(Range, SingleRangesAgainstTheFileSize) {
    auto r = parseRange("bytes=10-19", 100);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->first, 10u);
    EXPECT_EQ(r->last, 19u);
    EXPECT_EQ(parseRange("bytes=90-", 100)->last, 99u);
    EXPECT_EQ(parseRange("bytes=-10", 100)->first, 90u);
    EXPECT_EQ(parseRange("bytes=0-1000", 100)->last, 99u);
    EXPECT_FALSE(parseRange("bytes=100-", 100));
    EXPECT_FALSE(parseRange("bytes=0-1,5-6", 100));
}

}  // namespace
}  // namespace nixjail::runner::http
