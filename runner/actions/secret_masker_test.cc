#include "runner/actions/secret_masker.h"

#include <gtest/gtest.h>

namespace nixjail::runner::actions {
namespace {

TEST(SecretMasker, MasksEveryOccurrence) {
    SecretMasker m;
    m.add("hunter2");
    EXPECT_EQ(m.mask("a hunter2 b hunter2"), "a *** b ***");
}

TEST(SecretMasker, LongestSecretWinsWhenTheyOverlap) {
    SecretMasker m;
    m.add("abc");
    m.add("abcdef");
    EXPECT_EQ(m.mask("xabcdefx"), "x***x");
}

TEST(SecretMasker, MultiLineSecretMasksEachLine) {
    SecretMasker m;
    m.add("line-one\nline-two\r\nline-three");
    EXPECT_EQ(m.mask("line-two"), "***");
    EXPECT_EQ(m.mask("say line-three!"), "say ***!");
}

TEST(SecretMasker, EncodedFormsAreMasked) {
    SecretMasker m;
    m.add("p@ss \"w\"");
    EXPECT_EQ(m.mask("p%40ss%20%22w%22"), "***");
    EXPECT_EQ(m.mask("{\"t\":\"p@ss \\\"w\\\"\"}"), "{\"t\":\"***\"}");
}

TEST(SecretMasker, EmptyAndBlankValuesAreIgnored) {
    SecretMasker m;
    m.add("");
    m.add("   ");
    EXPECT_EQ(m.size(), 0u);
    EXPECT_EQ(m.mask("a b"), "a b");
}

TEST(SecretMasker, SafeCutNeverSplitsAnOccurrenceOrABeginning) {
    SecretMasker m;
    m.add("abcdef");
    EXPECT_EQ(m.safeCut("xxxx"), 4u);
    EXPECT_EQ(m.safeCut("xxabc"), 2u);       // a beginning at the end
    EXPECT_EQ(m.safeCut("xxabcdef"), 8u);    // a whole one ends at the end
    EXPECT_EQ(m.safeCut("abcde"), 0u);       // nothing but a beginning
    m.add("efgh");
    EXPECT_EQ(m.safeCut("x abcdefg"), 2u);   // "efg" begins inside "abcdef": both go on
    EXPECT_EQ(SecretMasker().safeCut("anything"), 8u);
}

}  // namespace
}  // namespace nixjail::runner::actions
