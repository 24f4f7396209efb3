#include "runner/workflow/matrix.h"

#include <gtest/gtest.h>

namespace nixjail::runner::workflow {
namespace {

using Json = nlohmann::json;

std::vector<Json> expand(const char* text, std::vector<std::string> order = {}) {
    auto r = expandMatrix(Json::parse(text), order);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error());
    return r ? *r : std::vector<Json>{};
}

TEST(Matrix, NullMatrixIsOneEmptyCombination) {
    auto r = expandMatrix(nullptr);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 1u);
    EXPECT_TRUE((*r)[0].empty());
}

TEST(Matrix, CartesianProductInKeyOrder) {
    auto c = expand(R"({"os":["a","b"],"n":[1,2]})", {"os", "n"});
    ASSERT_EQ(c.size(), 4u);
    EXPECT_EQ(c[0], Json::parse(R"({"os":"a","n":1})"));
    EXPECT_EQ(c[1], Json::parse(R"({"os":"a","n":2})"));
    EXPECT_EQ(c[2], Json::parse(R"({"os":"b","n":1})"));
    EXPECT_EQ(c[3], Json::parse(R"({"os":"b","n":2})"));
}

TEST(Matrix, ExcludeMatchesPartialCombinations) {
    auto c = expand(R"({"os":["a","b"],"n":[1,2],"exclude":[{"os":"a","n":2},{"n":1,"os":"b"}]})",
                    {"os", "n"});
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[0], Json::parse(R"({"os":"a","n":1})"));
    EXPECT_EQ(c[1], Json::parse(R"({"os":"b","n":2})"));
}

TEST(Matrix, ExcludeOfUnknownKeyIsAnError) {
    auto r = expandMatrix(Json::parse(R"({"os":["a"],"exclude":[{"arch":"x"}]})"));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("'arch'"), std::string::npos);
}

// The example from GitHub's documentation of include rules.
TEST(Matrix, IncludeFollowsGitHubRules) {
    auto c = expand(R"({"fruit":["apple","pear"],"animal":["cat","dog"],"include":[
        {"color":"green"},
        {"color":"pink","animal":"cat"},
        {"fruit":"apple","shape":"circle"},
        {"fruit":"banana"},
        {"fruit":"banana","animal":"cat"}]})",
                    {"fruit", "animal", "include"});
    ASSERT_EQ(c.size(), 6u);
    EXPECT_EQ(c[0], Json::parse(R"({"fruit":"apple","animal":"cat","color":"pink","shape":"circle"})"));
    EXPECT_EQ(c[1], Json::parse(R"({"fruit":"apple","animal":"dog","color":"green","shape":"circle"})"));
    EXPECT_EQ(c[2], Json::parse(R"({"fruit":"pear","animal":"cat","color":"pink"})"));
    EXPECT_EQ(c[3], Json::parse(R"({"fruit":"pear","animal":"dog","color":"green"})"));
    EXPECT_EQ(c[4], Json::parse(R"({"fruit":"banana"})"));
    EXPECT_EQ(c[5], Json::parse(R"({"fruit":"banana","animal":"cat"})"));
}

TEST(Matrix, OnlyIncludeGivesEachEntry) {
    auto c = expand(R"({"include":[{"a":1},{"a":2,"b":3}]})");
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[1], Json::parse(R"({"a":2,"b":3})"));
}

TEST(Matrix, ObjectValuesAreKept) {
    auto c = expand(R"({"cfg":[{"x":1},{"x":2}]})");
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[1]["cfg"]["x"], 2);
}

TEST(Matrix, EverythingExcludedIsAnError) {
    EXPECT_FALSE(expandMatrix(Json::parse(R"({"a":[1],"exclude":[{"a":1}]})")));
}

TEST(Matrix, NonListValueIsAnError) {
    auto r = expandMatrix(Json::parse(R"({"a":"x"})"));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("must be a list"), std::string::npos);
}

TEST(Matrix, TooManyCombinationsIsAnError) {
    auto r = expandMatrix(Json::parse(R"({"a":[1,2,3,4,5,6,7,8,9,10],"b":[1,2,3,4,5,6,7,8,9,10],"c":[1,2,3]})"));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("256"), std::string::npos);
}

TEST(Matrix, DescribeUsesKeyOrder) {
    EXPECT_EQ(describeCombination(Json::parse(R"({"os":"linux","n":1})"), {"os", "n"}), "linux, 1");
}

}  // namespace
}  // namespace nixjail::runner::workflow
