// The "did you mean" speller and its use in parse errors.
#include "runner/expr/suggest.h"

#include <gtest/gtest.h>

#include "runner/expr/expr.h"
#include "runner/expr/test_context.h"

namespace nixjail::runner::expr {
namespace {

TEST(ExprSuggest, FindsCloseNamesOnly) {
    std::vector<std::string> names{"github", "matrix", "steps", "needs", "secrets"};
    EXPECT_EQ(closestMatch("githb", names), "github");
    EXPECT_EQ(closestMatch("GITHUB", names), "github");
    EXPECT_EQ(closestMatch("step", names), "steps");
    EXPECT_EQ(closestMatch("secret", names), "secrets");
    EXPECT_EQ(closestMatch("banana", names), "");
    EXPECT_EQ(closestMatch("", names), "");
    EXPECT_EQ(closestMatch("x", {}), "");
    EXPECT_EQ(didYouMean("matrx", names), "; did you mean 'matrix'?");
    EXPECT_EQ(didYouMean(std::string(100, 'a'), names), "");
}

TEST(ExprSuggest, ParseErrorsSuggestFunctionsAndContexts) {
    auto ctx = testing::testContext();
    auto fn = evaluate("formt('{0}', 1)", ctx);
    ASSERT_FALSE(fn.has_value());
    EXPECT_EQ(fn.error().message, "Unrecognized function: 'formt'; did you mean 'format'?");
    auto startswith = evaluate("startWith('a', 'b')", ctx);
    ASSERT_FALSE(startswith.has_value());
    EXPECT_EQ(startswith.error().message,
              "Unrecognized function: 'startWith'; did you mean 'startsWith'?");
    auto named = evaluate("gihub.sha", ctx);
    ASSERT_FALSE(named.has_value());
    EXPECT_EQ(named.error().message, "Unrecognized named-value: 'gihub'; did you mean 'github'?");
    auto far = evaluate("zzz", ctx);
    ASSERT_FALSE(far.has_value());
    EXPECT_EQ(far.error().message, "Unrecognized named-value: 'zzz'");
}

}  // namespace
}  // namespace nixjail::runner::expr
