#include "runner/actions/command_file.h"

#include <gtest/gtest.h>

namespace nixjail::runner::actions {
namespace {

KeyValues parse(const std::string& s) {
    auto r = parseKeyValueFile(s, "GITHUB_OUTPUT");
    EXPECT_TRUE(r) << (r ? "" : r.error());
    return r ? *r : KeyValues{};
}

TEST(CommandFile, SimpleAssignments) {
    auto kv = parse("a=1\nb=x=y\n\nc=\n");
    ASSERT_EQ(kv.size(), 3u);
    EXPECT_EQ(kv[1], (std::pair<std::string, std::string>{"b", "x=y"}));
    EXPECT_EQ(kv[2].second, "");
}

TEST(CommandFile, HeredocKeepsInnerLinesAndEmptyLines) {
    auto kv = parse("msg<<EOF\n\nline 1\n\nline 3\nEOF\nnext=1\n");
    ASSERT_EQ(kv.size(), 2u);
    EXPECT_EQ(kv[0].second, "\nline 1\n\nline 3");
    EXPECT_EQ(kv[1].first, "next");
}

TEST(CommandFile, HeredocEmptyValue) {
    auto kv = parse("x<<END\nEND\n");
    ASSERT_EQ(kv.size(), 1u);
    EXPECT_EQ(kv[0].second, "");
}

TEST(CommandFile, CrLfLineEndings) {
    auto kv = parse("a=1\r\nm<<E\r\nv\r\nE\r\n");
    ASSERT_EQ(kv.size(), 2u);
    EXPECT_EQ(kv[0].second, "1");
    EXPECT_EQ(kv[1].second, "v");
}

TEST(CommandFile, MissingDelimiterIsAnError) {
    auto r = parseKeyValueFile("a<<EOF\nvalue\n", "GITHUB_ENV");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("GITHUB_ENV line 1: matching delimiter 'EOF' not found"), std::string::npos);
}

TEST(CommandFile, LineWithoutEqualsIsAnError) {
    auto r = parseKeyValueFile("justtext\n", "GITHUB_OUTPUT");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("invalid format 'justtext'"), std::string::npos);
}

TEST(CommandFile, EmptyNameIsAnError) {
    EXPECT_FALSE(parseKeyValueFile("=v\n", "GITHUB_OUTPUT"));
    EXPECT_FALSE(parseKeyValueFile("<<EOF\nEOF\n", "GITHUB_OUTPUT"));
}

TEST(CommandFile, PathFileSkipsBlankLines) {
    EXPECT_EQ(parsePathFile("/a\n\n/b\r\n"), (std::vector<std::string>{"/a", "/b"}));
}

}  // namespace
}  // namespace nixjail::runner::actions
