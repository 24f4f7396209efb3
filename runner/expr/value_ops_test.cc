// Number parsing and printing, truthiness and the display string.
#include "runner/expr/value_ops.h"

#include <gtest/gtest.h>

#include <cmath>

namespace nixjail::runner::expr {
namespace {

TEST(ExprParseNumber, FollowsJavaScriptNumber) {
    EXPECT_EQ(parseNumber(""), 0);
    EXPECT_EQ(parseNumber("   "), 0);
    EXPECT_EQ(parseNumber("42"), 42);
    EXPECT_EQ(parseNumber(" 42 "), 42);
    EXPECT_EQ(parseNumber("\t-1.5\n"), -1.5);
    EXPECT_EQ(parseNumber("+3"), 3);
    EXPECT_EQ(parseNumber(".5"), 0.5);
    EXPECT_EQ(parseNumber("5."), 5);
    EXPECT_EQ(parseNumber("1e3"), 1000);
    EXPECT_EQ(parseNumber("1E-2"), 0.01);
    EXPECT_EQ(parseNumber("0x1A"), 26);
    EXPECT_EQ(parseNumber("0xffffffff"), -1);
    EXPECT_EQ(parseNumber("0x80000000"), -2147483648.0);
    EXPECT_EQ(parseNumber("0o777"), 511);
    EXPECT_EQ(parseNumber("Infinity"), INFINITY);
    EXPECT_EQ(parseNumber("-Infinity"), -INFINITY);
    EXPECT_EQ(parseNumber("infinity"), INFINITY);
    EXPECT_EQ(parseNumber("1e999"), INFINITY);
    for (const char* nan : {"abc", "1a", "0x", "0xg1", "0X1A", "-0x1", "0o8", "1e", "e1", ".", "-",
                            "1.2.3", "1,000", "0x100000000", "NaN", "true", "null", "--1"}) {
        EXPECT_TRUE(std::isnan(parseNumber(nan))) << nan;
    }
    EXPECT_TRUE(std::signbit(parseNumber("-0")));
}

TEST(ExprFormatNumber, MatchesDotNetG15) {
    struct {
        double value;
        const char* text;
    } cases[] = {
        {0, "0"},
        {-0.0, "-0"},
        {1, "1"},
        {-1, "-1"},
        {1.5, "1.5"},
        {-1.5, "-1.5"},
        {100, "100"},
        {1e5, "100000"},
        {123.456, "123.456"},
        {0.1, "0.1"},
        {0.1 + 0.2, "0.3"},
        {1.0 / 3, "0.333333333333333"},
        {2.0 / 3, "0.666666666666667"},
        {1e14, "100000000000000"},
        {123456789012345, "123456789012345"},
        {999999999999999, "999999999999999"},
        {1e15, "1E+15"},
        {1234567890123456, "1.23456789012346E+15"},
        {9007199254740992, "9.00719925474099E+15"},
        {1e20, "1E+20"},
        {1.5e300, "1.5E+300"},
        {-2.5e100, "-2.5E+100"},
        {0.0001, "0.0001"},
        {0.00012345, "0.00012345"},
        {0.00001, "1E-05"},
        {1.5e-7, "1.5E-07"},
        {5e-324, "4.94065645841247E-324"},
        {2147483647, "2147483647"},
        {-2147483648.0, "-2147483648"},
        {NAN, "NaN"},
        {INFINITY, "Infinity"},
        {-INFINITY, "-Infinity"},
    };
    for (const auto& c : cases) EXPECT_EQ(formatNumber(c.value), c.text) << c.value;
}

TEST(ExprTruthy, FalsyValuesAreFalseZeroNaNEmptyAndNull) {
    EXPECT_FALSE(isTruthy(Value(nullptr)));
    EXPECT_FALSE(isTruthy(Value(false)));
    EXPECT_FALSE(isTruthy(Value(0.0)));
    EXPECT_FALSE(isTruthy(Value(-0.0)));
    EXPECT_FALSE(isTruthy(Value(0)));
    EXPECT_FALSE(isTruthy(Value(std::nan(""))));
    EXPECT_FALSE(isTruthy(Value("")));
    EXPECT_TRUE(isTruthy(Value(true)));
    EXPECT_TRUE(isTruthy(Value(1)));
    EXPECT_TRUE(isTruthy(Value(-0.5)));
    EXPECT_TRUE(isTruthy(Value(INFINITY)));
    EXPECT_TRUE(isTruthy(Value("0")));
    EXPECT_TRUE(isTruthy(Value("false")));
    EXPECT_TRUE(isTruthy(Value(" ")));
    EXPECT_TRUE(isTruthy(Value::array()));
    EXPECT_TRUE(isTruthy(Value::object()));
}

TEST(ExprDisplayString, ConvertsLikeTheRunner) {
    EXPECT_EQ(toDisplayString(Value(nullptr)), "");
    EXPECT_EQ(toDisplayString(Value(true)), "true");
    EXPECT_EQ(toDisplayString(Value(false)), "false");
    EXPECT_EQ(toDisplayString(Value(3.0)), "3");
    EXPECT_EQ(toDisplayString(Value(7)), "7");
    EXPECT_EQ(toDisplayString(Value(2.5)), "2.5");
    EXPECT_EQ(toDisplayString(Value("text")), "text");
    EXPECT_EQ(toDisplayString(Value::parse("[1,2]")), "Array");
    EXPECT_EQ(toDisplayString(Value::parse("{\"a\":1}")), "Object");
}

TEST(ExprStrings, CompareIgnoringAsciiCase) {
    EXPECT_EQ(compareIgnoreCase("abc", "ABC"), 0);
    EXPECT_LT(compareIgnoreCase("a", "B"), 0);
    EXPECT_GT(compareIgnoreCase("b", "A"), 0);
    EXPECT_LT(compareIgnoreCase("ab", "abc"), 0);
    EXPECT_GT(compareIgnoreCase("_", "a"), 0);  // compared upper-cased: 0x5f > 0x41
    EXPECT_EQ(findIgnoreCase("Hello World", "WORLD"), 6u);
    EXPECT_EQ(findIgnoreCase("abc", ""), 0u);
    EXPECT_EQ(findIgnoreCase("abc", "abcd"), std::string_view::npos);
    auto obj = Value::parse(R"({"Key": 1, "key": 2, "Other": 3})");
    EXPECT_EQ(*findKeyIgnoreCase(obj, "key"), 2);
    EXPECT_EQ(*findKeyIgnoreCase(obj, "KEY"), 1);
    EXPECT_EQ(*findKeyIgnoreCase(obj, "other"), 3);
    EXPECT_EQ(findKeyIgnoreCase(obj, "missing"), nullptr);
    EXPECT_EQ(findKeyIgnoreCase(Value::array(), "x"), nullptr);
}

}  // namespace
}  // namespace nixjail::runner::expr
