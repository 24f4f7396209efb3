// ByteRanges: chunks in any order, overlapping or touching, merge into the ranges a commit checks.
#include "runner/cache_server/byte_ranges.h"

#include <gtest/gtest.h>

namespace nixjail::runner::cache_server {
namespace {

TEST(ByteRanges, NothingArrivedCoversOnlySizeZero) {
    ByteRanges r;
    EXPECT_TRUE(r.coversExactly(0));
    EXPECT_FALSE(r.coversExactly(1));
    r.add(4, 4);  // an empty chunk adds nothing
    EXPECT_EQ(r.count(), 0u);
    EXPECT_TRUE(r.coversExactly(0));
}

TEST(ByteRanges, TouchingAndOverlappingRangesMerge) {
    ByteRanges r;
    r.add(3, 6);
    r.add(0, 3);  // touches
    EXPECT_EQ(r.count(), 1u);
    EXPECT_TRUE(r.coversExactly(6));
    r.add(2, 5);  // inside
    EXPECT_EQ(r.total(), 6u);
    r.add(5, 9);  // overlaps the end
    EXPECT_TRUE(r.coversExactly(9));
    EXPECT_FALSE(r.coversExactly(6));
}

TEST(ByteRanges, AGapKeepsTwoRangesUntilFilled) {
    ByteRanges r;
    r.add(0, 3);
    r.add(5, 7);
    r.add(9, 10);
    EXPECT_EQ(r.count(), 3u);
    EXPECT_EQ(r.total(), 6u);
    EXPECT_FALSE(r.coversExactly(10));
    r.add(2, 9);  // swallows the middle range and joins both neighbours
    EXPECT_EQ(r.count(), 1u);
    EXPECT_TRUE(r.coversExactly(10));
}

TEST(ByteRanges, RangesNotStartingAtZeroCoverNothing) {
    ByteRanges r;
    r.add(1, 5);
    EXPECT_FALSE(r.coversExactly(5));
    EXPECT_FALSE(r.coversExactly(4));
}

}  // namespace
}  // namespace nixjail::runner::cache_server
