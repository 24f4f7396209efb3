// Table-driven tests of the built-in functions (except hashFiles, see hash_files_test.cc).
#include <gtest/gtest.h>

#include <string>

#include "runner/expr/expr.h"
#include "runner/expr/test_context.h"

namespace nixjail::runner::expr {
namespace {

struct Case {
    const char* expression;
    const char* expected;  // JSON text
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.expression; }

class Functions : public ::testing::TestWithParam<Case> {};

TEST_P(Functions, Evaluate) {
    auto ctx = testing::testContext();
    auto r = evaluate(GetParam().expression, ctx);
    ASSERT_TRUE(r.has_value()) << GetParam().expression << ": " << r.error().format();
    EXPECT_EQ(*r, Value::parse(GetParam().expected))
        << GetParam().expression << " gave " << r->dump();
}

INSTANTIATE_TEST_SUITE_P(
    Contains, Functions,
    ::testing::Values(
        Case{"contains('Hello World', 'world')", "true"}, Case{"contains('Hello', 'xyz')", "false"},
        Case{"contains('abc', '')", "true"}, Case{"contains('', 'a')", "false"},
        Case{"contains('', '')", "true"}, Case{"contains(null, '')", "true"},
        Case{"contains(null, 'null')", "false"}, Case{"contains(123, 2)", "true"},
        Case{"contains(1.5, '.')", "true"}, Case{"contains(true, 'RU')", "true"},
        Case{"contains('true', true)", "true"}, Case{"contains('abc', null)", "true"},
        Case{"contains(matrix.list, 2)", "true"}, Case{"contains(matrix.list, '2')", "true"},
        Case{"contains(matrix.list, 5)", "false"}, Case{"contains(matrix.list, '0x3')", "true"},
        Case{"contains(matrix.nested, 'a')", "false"},
        Case{"contains('abc', matrix.list)", "false"},
        Case{"contains(fromJSON('[null]'), null)", "true"},
        Case{"contains(fromJSON('[null]'), 0)", "true"},
        Case{"contains(fromJSON('[\"A\"]'), 'a')", "true"},
        Case{"contains(fromJSON('[]'), '')", "false"},
        Case{"contains(fromJSON('[[1]]'), fromJSON('[1]'))", "false"},
        Case{"contains(fromJSON('[true]'), 1)", "true"}, Case{"CONTAINS('ABC', 'b')", "true"},
        Case{"contains(github.event_name, 'US')", "true"},
        Case{"contains(github.event, 'commits')", "false"}));

INSTANTIATE_TEST_SUITE_P(
    StartsEnds, Functions,
    ::testing::Values(
        Case{"startsWith('Hello', 'he')", "true"}, Case{"startsWith('Hello', 'lo')", "false"},
        Case{"endsWith('Hello', 'LO')", "true"}, Case{"endsWith('Hello', 'he')", "false"},
        Case{"startsWith('Hello', '')", "true"}, Case{"endsWith('', '')", "true"},
        Case{"startsWith('a', 'ab')", "false"}, Case{"endsWith('a', 'ba')", "false"},
        Case{"startsWith(12345, 12)", "true"}, Case{"endsWith(1.5, '.5')", "true"},
        Case{"startsWith(true, 't')", "true"}, Case{"startsWith(null, '')", "true"},
        Case{"startsWith(matrix.list, '')", "false"}, Case{"endsWith('x', matrix.list)", "false"},
        Case{"startsWith(github.ref, 'refs/heads/')", "true"},
        Case{"endsWith(github.ref, '/MAIN')", "true"}, Case{"StartsWith('abc', 'A')", "true"},
        Case{"ENDSWITH('abc', 'C')", "true"}));

INSTANTIATE_TEST_SUITE_P(
    Format, Functions,
    ::testing::Values(
        Case{"format('{0} {1}', 'a', 'b')", "\"a b\""},
        Case{"format('{1}{0}', 'a', 'b')", "\"ba\""}, Case{"format('{{0}}', 'x')", "\"{0}\""},
        Case{"format('{{{0}}}', 'x')", "\"{x}\""}, Case{"format('}}', 1)", "\"}\""},
        Case{"format('{{', 1)", "\"{\""}, Case{"format('a{{b}}c')", "\"a{b}c\""},
        Case{"format('no args')", "\"no args\""}, Case{"format('')", "\"\""},
        Case{"format('{0}', null)", "\"\""}, Case{"format('{0}', true)", "\"true\""},
        Case{"format('{0}', 1.50)", "\"1.5\""}, Case{"format('{0}', 1e15)", "\"1E+15\""},
        Case{"format('{0}', 0.00001)", "\"1E-05\""},
        Case{"format('{0}', matrix.list)", "\"Array\""},
        Case{"format('{0}', github)", "\"Object\""}, Case{"format('{0}{0}', 'ab')", "\"abab\""},
        Case{"format('{00}', 'x')", "\"x\""}, Case{"format('{0}', 'it''s')", "\"it's\""},
        Case{"format('{2}', 1, 2, 3)", "\"3\""},
        Case{"format('{0}-{1}-{0}', 'x', 'y')", "\"x-y-x\""},
        Case{"format('{0}', '{1}')", "\"{1}\""}, Case{"format(123)", "\"123\""},
        Case{"format(null)", "\"\""}, Case{"format('{0}', 'unused', fromJSON('x'))", "\"unused\""},
        Case{"FORMAT('{0}!', github.event_name)", "\"push!\""},
        Case{"format('{0} {1} {2} {3} {4} {5} {6} {7} {8} {9} {10}', 0,1,2,3,4,5,6,7,8,9,10)",
             "\"0 1 2 3 4 5 6 7 8 9 10\""}));

INSTANTIATE_TEST_SUITE_P(
    Join, Functions,
    ::testing::Values(
        Case{"join(matrix.list)", "\"1,2,3\""}, Case{"join(matrix.list, '-')", "\"1-2-3\""},
        Case{"join(matrix.list, '')", "\"123\""}, Case{"join(matrix.list, ', ')", "\"1, 2, 3\""},
        Case{"join('abc')", "\"abc\""}, Case{"join('abc', '-')", "\"abc\""},
        Case{"join(1.5)", "\"1.5\""}, Case{"join(null)", "\"\""},
        Case{"join(true, 'x')", "\"true\""}, Case{"join(matrix.nested)", "\"\""},
        Case{"join(fromJSON('[]'), '-')", "\"\""},
        Case{"join(fromJSON('[\"only\"]'), '-')", "\"only\""},
        Case{"join(fromJSON('[1, null, true, \"x\", [], {}]'), '|')", "\"1||true|x|Array|Object\""},
        Case{"join(matrix.list, matrix.list)", "\"1,2,3\""},
        Case{"join(matrix.list, null)", "\"123\""}, Case{"join(matrix.list, 0)", "\"10203\""},
        Case{"JOIN(matrix.list)", "\"1,2,3\""}));

INSTANTIATE_TEST_SUITE_P(
    CaseFunction, Functions,
    ::testing::Values(
        Case{"case(true, 'first', 'default')", "\"first\""},
        Case{"case(false, 'first', 'default')", "\"default\""},
        Case{"case(false, 'a', true, 'b', 'c')", "\"b\""},
        Case{"case(false, 'a', false, 'b', 'c')", "\"c\""},
        Case{"case(true, 'a', true, 'b', 'c')", "\"a\""},
        Case{"case(1 == 1, matrix.list, null)", "[1, 2, 3]"},
        Case{"CASE(matrix.os == 'UBUNTU', 1, 2)", "1"},
        // Only the chosen value is evaluated, and predicates after the first true one are not.
        Case{"case(true, 'ok', fromJSON('not json'), 'x', 'y')", "\"ok\""},
        Case{"case(false, fromJSON('not json'), 'd')", "\"d\""}));

INSTANTIATE_TEST_SUITE_P(
    ToJson, Functions,
    ::testing::Values(
        Case{"toJSON('a')", "\"\\\"a\\\"\""}, Case{"toJSON(1)", "\"1\""},
        Case{"toJSON(null)", "\"null\""}, Case{"toJSON(true)", "\"true\""},
        Case{"toJSON(1.5)", "\"1.5\""}, Case{"toJSON(1e20)", "\"1E+20\""},
        Case{"toJSON(NaN)", "\"NaN\""}, Case{"toJSON(-Infinity)", "\"-Infinity\""},
        Case{"toJSON(fromJSON('[]'))", "\"[]\""}, Case{"toJSON(fromJSON('{}'))", "\"{}\""},
        Case{"toJSON(matrix.list)", "\"[\\n  1,\\n  2,\\n  3\\n]\""},
        Case{"toJSON(fromJSON('{\"a\":[1,{\"b\":null}],\"c\":{}}'))",
             "\"{\\n  \\\"a\\\": [\\n    1,\\n    {\\n      \\\"b\\\": null\\n    }\\n  ],\\n  "
             "\\\"c\\\": {}\\n}\""},
        Case{"toJSON(fromJSON('[[]]'))", "\"[\\n  []\\n]\""},
        // Keys stay in the order the object was built, as in the Actions runner.
        Case{"toJSON(fromJSON('{\"b\":1,\"a\":{\"z\":true,\"y\":false}}'))",
             "\"{\\n  \\\"b\\\": 1,\\n  \\\"a\\\": {\\n    \\\"z\\\": true,\\n    "
             "\\\"y\\\": false\\n  }\\n}\""},
        Case{"toJSON('a\"b\\c')", "\"\\\"a\\\\\\\"b\\\\\\\\c\\\"\""},
        Case{"toJSON(fromJSON('\"\\n\\t\\u0001\"'))", "\"\\\"\\\\n\\\\t\\\\u0001\\\"\""},
        Case{"toJSON(fromJSON('\"\\u2028\"'))", "\"\\\"\\\\u2028\\\"\""},
        Case{"toJSON(fromJSON('\"é/<\"'))", "\"\\\"é/<\\\"\""},
        Case{"toJSON(github.run_number)", "\"42\""}, Case{"tojson(0.1)", "\"0.1\""},
        Case{"toJSON(steps.build.outputs)", "\"{\\n  \\\"result\\\": \\\"ok\\\"\\n}\""}));

INSTANTIATE_TEST_SUITE_P(
    FromJson, Functions,
    ::testing::Values(Case{"fromJSON('{\"a\":1}').a", "1"}, Case{"fromJSON('[1,2]')[1]", "2"},
                      Case{"fromJSON('\"s\"')", "\"s\""}, Case{"fromJSON('true')", "true"},
                      Case{"fromJSON('null')", "null"}, Case{"fromJSON('1.5')", "1.5"},
                      Case{"fromJSON(' 7 ')", "7"}, Case{"fromJSON(42)", "42"},
                      Case{"fromJSON(true)", "true"}, Case{"fromJSON(env.NUM)", "10"},
                      Case{"fromJSON('{\"A\":{\"b\":[true]}}').a.B[0]", "true"},
                      Case{"fromJSON('[1, 2, 3]')", "[1,2,3]"}, Case{"fromjson('{}')", "{}"},
                      Case{"fromJSON(toJSON(matrix.nested))", "{\"a\":{\"b\":{\"c\":\"deep\"}}}"},
                      Case{"fromJSON(toJSON(matrix.list)) == matrix.list", "false"},
                      Case{"fromJSON('123456789012')", "123456789012"}));

// Status functions consult the callbacks; they are only allowed when the callbacks exist.
TEST(ExprStatusFunctions, CallTheCallbacks) {
    auto ctx = testing::testContext();
    bool ok = false, failed = true, cancelled = false;
    ctx.success = [&] { return ok; };
    ctx.failure = [&] { return failed; };
    ctx.cancelled = [&] { return cancelled; };
    EXPECT_EQ(*evaluate("success()", ctx), Value(false));
    EXPECT_EQ(*evaluate("failure()", ctx), Value(true));
    EXPECT_EQ(*evaluate("cancelled()", ctx), Value(false));
    EXPECT_EQ(*evaluate("always()", ctx), Value(true));
    EXPECT_EQ(*evaluate("SUCCESS() || Always()", ctx), Value(true));
    ok = true;
    cancelled = true;
    EXPECT_EQ(*evaluate("success() && cancelled()", ctx), Value(true));
}

TEST(ExprStatusFunctions, NotAllowedOutsideConditions) {
    auto ctx = testing::testContext();
    for (const char* e : {"success()", "failure()", "cancelled()", "always()", "1 && always()"}) {
        auto r = evaluate(e, ctx);
        ASSERT_FALSE(r.has_value()) << e;
        EXPECT_NE(r.error().message.find("is not allowed here"), std::string::npos) << e;
    }
}

TEST(ExprStatusFunctions, EachNeedsItsOwnCallback) {
    auto ctx = testing::testContext();
    ctx.success = [] { return true; };
    EXPECT_TRUE(evaluate("success()", ctx).has_value());
    EXPECT_TRUE(evaluate("always()", ctx).has_value());
    EXPECT_FALSE(evaluate("failure()", ctx).has_value());
    EXPECT_FALSE(evaluate("cancelled()", ctx).has_value());
}

}  // namespace
}  // namespace nixjail::runner::expr
