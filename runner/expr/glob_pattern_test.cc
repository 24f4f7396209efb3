// hashFiles' glob dialect (@actions/glob): segments, globstar, negation, implicit descendants.
#include "runner/expr/glob_pattern.h"

#include <gtest/gtest.h>

namespace nixjail::runner::expr {
namespace {

TEST(ExprGlobSegment, MatchesLikeMinimatchWithDotFiles) {
    struct {
        const char* pattern;
        const char* name;
        bool match;
    } cases[] = {
        {"*", "a.txt", true},     {"*", ".hidden", true},
        {"*.txt", "a.txt", true}, {"*.txt", "a.log", false},
        {"*.txt", ".txt", true},  {"a?c", "abc", true},
        {"a?c", "ac", false},     {"[a-c]x", "bx", true},
        {"[a-c]x", "dx", false},  {"[!a]x", "ax", false},
        {"[!a]x", "bx", true},    {"[^a]x", "bx", true},
        {"[]]", "]", true},       {"\\*", "*", true},
        {"\\*", "a", false},      {"a\\?", "a?", true},
        {"a*b*c", "aXbYc", true}, {"a*b*c", "aXbY", false},
        {"a*b", "ab", true},      {"[", "[", true},
        {"[ab", "[ab", true},     {"**", "anything", true},
        {"a**b", "axxb", true},   {"", "", true},
        {"abc", "ABC", false},    {"*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(matchSegment(c.pattern, c.name), c.match) << c.pattern << " vs " << c.name;
    }
}

TEST(ExprGlobPath, SplitsAndNormalizes) {
    EXPECT_EQ(splitPath("/a/b/c"), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(splitPath("/a//b/./c/"), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(splitPath("/a/b/../c"), (std::vector<std::string>{"a", "c"}));
    EXPECT_EQ(splitPath("/../../x"), (std::vector<std::string>{"x"}));
    EXPECT_TRUE(splitPath("/").empty());
}

std::vector<std::string> ws() { return {"w"}; }

bool selects(std::vector<std::string> patterns, const std::string& path) {
    return selectsFile(parseGlobPatterns(patterns, ws()), splitPath(path));
}

TEST(ExprGlobPatterns, SelectFilesRelativeToTheWorkspace) {
    EXPECT_TRUE(selects({"a.txt"}, "/w/a.txt"));
    EXPECT_FALSE(selects({"a.txt"}, "/w/sub/a.txt"));
    EXPECT_TRUE(selects({"**/a.txt"}, "/w/a.txt"));
    EXPECT_TRUE(selects({"**/a.txt"}, "/w/x/y/a.txt"));
    EXPECT_TRUE(selects({"**/*.txt"}, "/w/.hidden/x.txt"));
    EXPECT_TRUE(selects({"**"}, "/w/any/thing"));
    EXPECT_TRUE(selects({"./a.txt"}, "/w/a.txt"));
    EXPECT_TRUE(selects({"/w/a.txt"}, "/w/a.txt"));
    EXPECT_TRUE(selects({"sub"}, "/w/sub/deep/f"));  // a directory selects what is below it
    EXPECT_TRUE(selects({"sub/"}, "/w/sub/f"));
    EXPECT_FALSE(selects({"sub/"}, "/w/sub"));  // trailing '/' never selects a file
    EXPECT_TRUE(selects({"sub/**"}, "/w/sub/f"));
    EXPECT_TRUE(selects({"s*"}, "/w/sub/f"));
    EXPECT_TRUE(selects({"x/**/y"}, "/w/x/y"));
    EXPECT_TRUE(selects({"x/**/y"}, "/w/x/a/b/y"));
    EXPECT_FALSE(selects({"x/**/y"}, "/w/x/a/b/z"));
    EXPECT_TRUE(selects({"sub/../a.txt"}, "/w/a.txt"));
    EXPECT_FALSE(selects({"../a.txt"}, "/w/a.txt"));
}

TEST(ExprGlobPatterns, LaterNegationsRemoveAndLaterIncludesAddBack) {
    EXPECT_FALSE(selects({"**/*.txt", "!b/**"}, "/w/b/c.txt"));
    EXPECT_TRUE(selects({"**/*.txt", "!b/**"}, "/w/a.txt"));
    EXPECT_FALSE(selects({"**", "!b"}, "/w/b/c.txt"));  // negating a directory excludes below it
    EXPECT_TRUE(selects({"**", "!b", "b/keep"}, "/w/b/keep"));
    EXPECT_FALSE(selects({"!b/x", "b/x"}, "/w/c"));
    EXPECT_TRUE(selects({"!b/x", "b/x"}, "/w/b/x"));
    EXPECT_TRUE(selects({"!!a"}, "/w/a"));
}

TEST(ExprGlobPatterns, LinesCommentsAndBlanks) {
    auto patterns = parseGlobPatterns({"# comment\n  a.txt  \n\n!  b.txt\n~/x"}, ws());
    ASSERT_EQ(patterns.size(), 4u);  // each with its implicit descendants pattern
    EXPECT_FALSE(patterns[0].negate);
    EXPECT_EQ(patterns[0].segments, (std::vector<std::string>{"w", "a.txt"}));
    EXPECT_TRUE(patterns[2].negate);
    EXPECT_EQ(patterns[2].segments, (std::vector<std::string>{"w", "b.txt"}));
    EXPECT_TRUE(parseGlobPatterns({"**"}, ws()).size() == 1u) << "no descendants for '**'";
}

TEST(ExprGlobPatterns, SearchRootIsTheLiteralPrefix) {
    auto root = [](const std::string& p) { return searchRoot(parseGlobPatterns({p}, ws())[0]); };
    EXPECT_EQ(root("src/**/*.c"), (std::vector<std::string>{"w", "src"}));
    EXPECT_EQ(root("**/x"), (std::vector<std::string>{"w"}));
    EXPECT_EQ(root("a/b.txt"), (std::vector<std::string>{"w", "a"}));
    EXPECT_EQ(root("/etc/*"), (std::vector<std::string>{"etc"}));
    EXPECT_EQ(root("a\\*b/c*"), (std::vector<std::string>{"w", "a*b"}));
}

TEST(ExprGlobPatterns, CouldMatchBelowPrunesTheWalk) {
    auto p = parseGlobPatterns({"src/**/*.c"}, ws())[0];
    EXPECT_TRUE(couldMatchBelow(p, splitPath("/w")));
    EXPECT_TRUE(couldMatchBelow(p, splitPath("/w/src")));
    EXPECT_TRUE(couldMatchBelow(p, splitPath("/w/src/a/b")));
    EXPECT_FALSE(couldMatchBelow(p, splitPath("/w/node_modules")));
    auto literal = parseGlobPatterns({"a/b.txt"}, ws())[0];
    EXPECT_TRUE(couldMatchBelow(literal, splitPath("/w/a")));
    EXPECT_FALSE(couldMatchBelow(literal, splitPath("/w/b")));
    EXPECT_FALSE(couldMatchBelow(literal, splitPath("/w/a/b.txt")));
}

}  // namespace
}  // namespace nixjail::runner::expr
