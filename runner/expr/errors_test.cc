// Parse and evaluation errors: the message names the problem and the position points at it.
#include <gtest/gtest.h>

#include <string>

#include "runner/expr/expr.h"
#include "runner/expr/test_context.h"

namespace nixjail::runner::expr {
namespace {

struct ErrorCase {
    std::string expression;
    const char* message;  // substring of the message
    size_t position;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.expression.substr(0, 60); }

class Errors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(Errors, ReportProblemAndPosition) {
    const auto& c = GetParam();
    auto ctx = testing::testContext();
    auto r = evaluate(c.expression, ctx);
    ASSERT_FALSE(r.has_value()) << c.expression << " gave " << r->dump();
    EXPECT_NE(r.error().message.find(c.message), std::string::npos)
        << c.expression << ": " << r.error().message;
    EXPECT_EQ(r.error().position, c.position) << c.expression << ": " << r.error().message;
    EXPECT_EQ(r.error().expression, c.expression);
}

INSTANTIATE_TEST_SUITE_P(
    Syntax, Errors,
    ::testing::Values(
        ErrorCase{"", "An expression was expected", 0},
        ErrorCase{"   ", "An expression was expected", 0},
        ErrorCase{"1 ==", "Unexpected end of expression: '=='", 2},
        ErrorCase{"(1", "Unexpected end of expression: '1'", 1},
        ErrorCase{"!", "Unexpected end of expression: '!'", 0},
        ErrorCase{"1)", "Unexpected symbol: ')'", 1},
        ErrorCase{"a == )", "Unrecognized named-value: 'a'", 0},
        ErrorCase{"1 == )", "Unexpected symbol: ')'", 5},
        ErrorCase{"1 2", "Unexpected symbol: '2'", 2},
        ErrorCase{"'abc", "Unexpected symbol: ''abc'", 0},
        ErrorCase{"'it''s", "Unexpected symbol", 0},
        ErrorCase{"1 = 2", "Unexpected symbol: '='", 2},
        ErrorCase{"true & false", "Unexpected symbol: '&'", 5},
        ErrorCase{"true | false", "Unexpected symbol: '|'", 5},
        ErrorCase{"1 === 1", "Unexpected symbol", 4},
        ErrorCase{"github..x", "Unexpected symbol: '.'", 7},
        ErrorCase{"github.1", "Unexpected symbol: '1'", 7},
        ErrorCase{"github.", "Unexpected end of expression: '.'", 6},
        ErrorCase{"'abc'[0]", "Unexpected symbol: '['", 5},
        ErrorCase{"'a'.b", "Unexpected symbol: '.'", 3},
        ErrorCase{"null.*", "Unexpected symbol: '.'", 4},
        ErrorCase{"1.2.3", "Unexpected symbol: '1.2.3'", 0},
        ErrorCase{"0x", "Unexpected symbol: '0x'", 0},
        ErrorCase{"0xg", "Unexpected symbol: '0xg'", 0},
        ErrorCase{"0x100000000", "Unexpected symbol", 0},
        ErrorCase{"-abc", "Unexpected symbol: '-abc'", 0},
        ErrorCase{"1e", "Unexpected symbol: '1e'", 0},
        ErrorCase{"1-2", "Unexpected symbol: '1-2'", 0},
        ErrorCase{"-", "Unexpected symbol: '-'", 0}, ErrorCase{"*", "Unexpected symbol: '*'", 0},
        ErrorCase{"github.[0]", "Unexpected symbol: '['", 7},
        ErrorCase{"github[*", "Unexpected end of expression: '*'", 7},
        ErrorCase{"github[*.x]", "Unexpected symbol: '.'", 8},
        ErrorCase{"github[]", "Unexpected symbol: ']'", 7},
        ErrorCase{"format('{0}', )", "Unexpected symbol: ')'", 14},
        ErrorCase{"format(,)", "Unexpected symbol: ','", 7},
        ErrorCase{"format('a'", "Unexpected end of expression", 7},
        ErrorCase{"(1, 2)", "Unexpected symbol: ','", 2},
        ErrorCase{"github[1, 2]", "Unexpected symbol: ','", 8},
        ErrorCase{"github ! true", "Unexpected symbol: '!'", 7},
        ErrorCase{"github.foo(1)", "Unexpected symbol: '('", 10},
        ErrorCase{"$x", "Unexpected symbol: '$x'", 0},
        ErrorCase{"github.x$", "Unexpected symbol: 'x$'", 7},
        ErrorCase{"a*", "Unexpected symbol: 'a*'", 0}, ErrorCase{"()", "Unexpected symbol: ')'", 1},
        ErrorCase{"[1]", "Unexpected symbol: '['", 0},
        ErrorCase{"1 ,", "Unexpected symbol: ','", 2},
        ErrorCase{"'a' 'b'", "Unexpected symbol: ''b''", 4},
        ErrorCase{"true false", "Unexpected symbol: 'false'", 5},
        ErrorCase{"1 <", "Unexpected end", 2}, ErrorCase{"< 1", "Unexpected symbol: '<'", 0},
        ErrorCase{"&& true", "Unexpected symbol: '&&'", 0}));

INSTANTIATE_TEST_SUITE_P(
    Names, Errors,
    ::testing::Values(ErrorCase{"foo(1)", "Unrecognized function: 'foo'", 0},
                      ErrorCase{"1 == bar()", "Unrecognized function: 'bar'", 5},
                      ErrorCase{"bogus.x", "Unrecognized named-value: 'bogus'", 0},
                      ErrorCase{"1 == bogus", "Unrecognized named-value: 'bogus'", 5},
                      ErrorCase{"True", "Unrecognized named-value: 'True'", 0},
                      ErrorCase{"NULL", "Unrecognized named-value: 'NULL'", 0},
                      ErrorCase{"nan", "Unrecognized named-value: 'nan'", 0},
                      ErrorCase{"vars.x", "Unrecognized named-value: 'vars'", 0},
                      ErrorCase{"contains('a')", "Too few parameters supplied: 'contains'", 0},
                      ErrorCase{"contains('a', 'b', 'c')",
                                "Too many parameters supplied: 'contains'", 0},
                      ErrorCase{"toJSON()", "Too few parameters supplied", 0},
                      ErrorCase{"toJSON(1, 2)", "Too many parameters supplied", 0},
                      ErrorCase{"fromJSON()", "Too few parameters supplied", 0},
                      ErrorCase{"join()", "Too few parameters supplied", 0},
                      ErrorCase{"join(1, 2, 3)", "Too many parameters supplied", 0},
                      ErrorCase{"format()", "Too few parameters supplied", 0},
                      ErrorCase{"startsWith('a')", "Too few parameters supplied", 0},
                      ErrorCase{"endsWith('a', 'b', 'c')", "Too many parameters supplied", 0},
                      ErrorCase{"hashFiles()", "Too few parameters supplied", 0},
                      ErrorCase{"case(true, 1)", "Too few parameters supplied: 'case'", 0},
                      ErrorCase{"case(true, 1, false, 2)",
                                "case requires an odd number of arguments", 0},
                      ErrorCase{"case(false, 1, 'yes', 2, 3)",
                                "case predicate must evaluate to a boolean value", 15},
                      ErrorCase{"case(1, 1, 2)", "case predicate must evaluate to a boolean value", 5},
                      ErrorCase{"1 && success()", "'success' is not allowed here", 5},
                      ErrorCase{"success(1)", "is not allowed here", 0}));

INSTANTIATE_TEST_SUITE_P(
    Runtime, Errors,
    ::testing::Values(ErrorCase{"format('{0}')", "references more arguments than were supplied", 0},
                      ErrorCase{"format('{1}', 'a')", "references more arguments", 0},
                      ErrorCase{"format('{')", "format string is invalid", 0},
                      ErrorCase{"format('}')", "format string is invalid", 0},
                      ErrorCase{"format('{a}', 1)", "format string is invalid", 0},
                      ErrorCase{"format('{0', 1)", "format string is invalid", 0},
                      ErrorCase{"format('{0}}', 1)", "format string is invalid", 0},
                      ErrorCase{"format('{-1}', 1)", "format string is invalid", 0},
                      ErrorCase{"format('{256}', 1)", "format string is invalid", 0},
                      ErrorCase{"format('{0:x}', 1)", "Format specifiers are not supported", 0},
                      ErrorCase{"1 == format('{0}')", "references more arguments", 5},
                      ErrorCase{"fromJSON('x')", "fromJSON: the argument is not valid JSON", 0},
                      ErrorCase{"fromJSON('')", "not valid JSON", 0},
                      ErrorCase{"fromJSON('{')", "not valid JSON", 0},
                      ErrorCase{"fromJSON('[1,]')", "not valid JSON", 0},
                      ErrorCase{"fromJSON('1 2')", "not valid JSON", 0},
                      ErrorCase{"fromJSON(null)", "not valid JSON", 0},
                      ErrorCase{"fromJSON(matrix)", "not valid JSON", 0},
                      ErrorCase{"fromJSON('\"\\xff\"')", "not valid JSON", 0},
                      ErrorCase{"fromJSON('" + std::string(65, '[') + std::string(65, ']') + "')",
                                "deeper than 64", 0},
                      ErrorCase{"hashFiles('**')", "hashFiles is not available here", 0},
                      ErrorCase{"true && hashFiles('x')", "hashFiles is not available here", 8}));

std::string repeat(const std::string& s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

INSTANTIATE_TEST_SUITE_P(
    Limits, Errors,
    ::testing::Values(
        ErrorCase{repeat("!", 50) + "true", "Exceeded max expression depth 50", 0},
        ErrorCase{repeat("!", 5000) + "true", "Exceeded max expression depth 50", 50},
        ErrorCase{repeat("(", 51) + "1" + repeat(")", 51), "Exceeded max expression depth 50", 50},
        ErrorCase{repeat("(", 10000), "Exceeded max expression depth 50", 50},
        ErrorCase{"github" + repeat(".a", 50), "Exceeded max expression depth 50", 104},
        ErrorCase{"github" + repeat("[0]", 60), "Exceeded max expression depth 50", 153},
        ErrorCase{"1" + repeat(" == 1", 60), "Exceeded max expression depth 50", 247},
        ErrorCase{repeat("format('{0}', ", 60) + "1" + repeat(")", 60),
                  "Exceeded max expression depth", 700},
        ErrorCase{"'" + std::string(21000, 'x') + "'", "Exceeded max expression length 21000", 0}));

TEST(ExprLimits, DeepButLegalExpressionsWork) {
    auto ctx = testing::testContext();
    EXPECT_EQ(*evaluate(repeat("!", 48) + "true", ctx), Value(true));
    EXPECT_EQ(*evaluate(repeat("(", 49) + "1" + repeat(")", 49), ctx), Value(1.0));
    // && and || chains are flattened, as in Actions, so they may be long.
    EXPECT_EQ(*evaluate("true" + repeat(" && true", 2000), ctx), Value(true));
    EXPECT_EQ(*evaluate("false" + repeat(" || false", 2000) + " || 'end'", ctx), Value("end"));
    EXPECT_EQ(*evaluate("github" + repeat(".a", 40), ctx), Value(nullptr));
}

TEST(ExprLimits, ExplodingResultsStopAtTheMemoryLimit) {
    auto ctx = testing::testContext();
    std::string tenCopies = "format('{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}', ";
    auto r = evaluate(repeat(tenCopies, 9) + "'xxxxxxxxxx'" + repeat(")", 9), ctx);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("MiB of memory"), std::string::npos) << r.error().message;
}

TEST(ExprLimits, FromJsonAcceptsSixtyFourLevels) {
    auto ctx = testing::testContext();
    auto r = evaluate("toJSON(fromJSON('" + repeat("[", 64) + repeat("]", 64) + "')) != ''", ctx);
    ASSERT_TRUE(r.has_value()) << r.error().format();
    EXPECT_EQ(*r, Value(true));
}

TEST(ExprErrorFormat, ShowsTheExpressionAndACaret) {
    ExprError e{"Unexpected symbol: ')'", "a == )", 5};
    EXPECT_EQ(e.format(), "Unexpected symbol: ')'\n  a == )\n       ^");
    ExprError start{"Bad", "xyz", 0};
    EXPECT_EQ(start.format(), "Bad\n  xyz\n  ^");
    ExprError end{"End", "ab", 2};
    EXPECT_EQ(end.format(), "End\n  ab\n    ^");
}

TEST(ExprErrorFormat, ShowsOnlyTheLineWithTheProblem) {
    ExprError e{"Oops", "echo one\necho ${{ bad }}\necho three", 16};
    EXPECT_EQ(e.format(), "Oops\n  echo ${{ bad }}\n" + std::string(9, ' ') + "^");
    ExprError first{"Oops", "\nsecond", 0};
    EXPECT_EQ(first.format(), "Oops\n  \n  ^");
}

}  // namespace
}  // namespace nixjail::runner::expr
