// Table-driven tests of bare expressions: literals, operators, coercion, property access, filters.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "runner/expr/expr.h"
#include "runner/expr/test_context.h"

namespace nixjail::runner::expr {
namespace {

struct Case {
    const char* expression;
    const char* expected;  // JSON text, or "NaN" / "Infinity" / "-Infinity"
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.expression; }

void expectValue(const Case& c) {
    auto ctx = testing::testContext();
    auto r = evaluate(c.expression, ctx);
    ASSERT_TRUE(r.has_value()) << c.expression << ": " << r.error().format();
    std::string expected = c.expected;
    if (expected == "NaN") {
        ASSERT_TRUE(r->is_number()) << r->dump();
        EXPECT_TRUE(std::isnan(r->get<double>()));
    } else if (expected == "Infinity" || expected == "-Infinity") {
        ASSERT_TRUE(r->is_number()) << r->dump();
        EXPECT_EQ(r->get<double>(), expected == "Infinity" ? INFINITY : -INFINITY);
    } else {
        EXPECT_EQ(*r, Value::parse(expected)) << c.expression << " gave " << r->dump();
    }
    if (r->is_number()) {
        EXPECT_TRUE(r->is_number_float()) << "numbers are doubles";
    }
}

class Literals : public ::testing::TestWithParam<Case> {};
TEST_P(Literals, Evaluate) { expectValue(GetParam()); }
INSTANTIATE_TEST_SUITE_P(
    Expr, Literals,
    ::testing::Values(Case{"null", "null"}, Case{"true", "true"}, Case{"false", "false"},
                      Case{"1", "1"}, Case{"0", "0"}, Case{"1.5", "1.5"}, Case{"-1", "-1"},
                      Case{"+5", "5"}, Case{"-2.25", "-2.25"}, Case{".5", "0.5"}, Case{"5.", "5"},
                      Case{"0xff", "255"}, Case{"0xFF", "255"}, Case{"0x10", "16"},
                      Case{"0x7fffffff", "2147483647"}, Case{"0xffffffff", "-1"},
                      Case{"0x000000001", "1"}, Case{"0o17", "15"}, Case{"1e3", "1000"},
                      Case{"1E3", "1000"}, Case{"1e+3", "1000"}, Case{"1e-3", "0.001"},
                      Case{"-1e2", "-100"}, Case{"1e400", "Infinity"}, Case{"-1e400", "-Infinity"},
                      Case{"1e-400", "0"}, Case{"Infinity", "Infinity"},
                      Case{"-Infinity", "-Infinity"}, Case{"NaN", "NaN"}, Case{"'abc'", "\"abc\""},
                      Case{"''", "\"\""}, Case{"'it''s'", "\"it's\""}, Case{"''''", "\"'\""},
                      Case{"'a b  c'", "\"a b  c\""}, Case{"'${{ x }}'", "\"${{ x }}\""},
                      Case{"'ünïcödé'", "\"ünïcödé\""}, Case{"  1  ", "1"},
                      Case{"\t'x'\n", "\"x\""}, Case{"(1)", "1"}, Case{"((('a')))", "\"a\""}));

TEST(ExprLiterals, NegativeZeroKeepsItsSign) {
    auto ctx = testing::testContext();
    auto r = evaluate("-0", ctx);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(std::signbit(r->get<double>()));
    EXPECT_EQ(toDisplayString(*r), "-0");
    EXPECT_FALSE(isTruthy(*r));
}

class Equality : public ::testing::TestWithParam<Case> {};
TEST_P(Equality, Evaluate) { expectValue(GetParam()); }
INSTANTIATE_TEST_SUITE_P(
    Expr, Equality,
    ::testing::Values(
        Case{"1 == 1", "true"}, Case{"1 == 2", "false"}, Case{"1 == '1'", "true"},
        Case{"'1' == 1", "true"}, Case{"1 == '1.0'", "true"}, Case{"1 == ' 1 '", "true"},
        Case{"16 == '0x10'", "true"}, Case{"100 == '1e2'", "true"}, Case{"0 == ''", "true"},
        Case{"0 == '   '", "true"}, Case{"'abc' == 0", "false"}, Case{"'abc' == 'ABC'", "true"},
        Case{"'abc' != 'ABC'", "false"}, Case{"'a' == 'b'", "false"}, Case{"'ß' == 'ß'", "true"},
        Case{"null == null", "true"}, Case{"null == 0", "true"}, Case{"null == ''", "true"},
        Case{"null == false", "true"}, Case{"null == 'null'", "false"}, Case{"null == 1", "false"},
        Case{"true == 1", "true"}, Case{"true == 2", "false"}, Case{"true == '1'", "true"},
        Case{"true == 'true'", "false"}, Case{"false == 0", "true"}, Case{"false == ''", "true"},
        Case{"false == 'false'", "false"}, Case{"true == true", "true"},
        Case{"true != false", "true"}, Case{"NaN == NaN", "false"}, Case{"NaN != NaN", "true"},
        Case{"'abc' == NaN", "false"}, Case{"Infinity == 'Infinity'", "true"},
        Case{"-Infinity == '-Infinity'", "true"}, Case{"0 == -0", "true"},
        Case{"0.1 == '.1'", "true"}, Case{"github.event == github.event", "true"},
        Case{"github.event != github.event", "false"}, Case{"matrix.list == matrix.list", "true"},
        Case{"matrix.list == matrix['LIST']", "true"},
        Case{"fromJSON('{}') == fromJSON('{}')", "false"},
        Case{"fromJSON('[]') == fromJSON('[]')", "false"}, Case{"matrix.list == 'Array'", "false"},
        Case{"matrix.nested == 'Object'", "false"}, Case{"matrix.list == 0", "false"},
        Case{"matrix.list == null", "false"}, Case{"matrix.list == true", "false"},
        Case{"matrix.list.* == matrix.list.*", "false"}, Case{"env.NUM == 10", "true"},
        Case{"env.HEX == 26", "true"}, Case{"env.SPACE == 7", "true"},
        Case{"env.EMPTY == 0", "true"}, Case{"env.EMPTY == null", "true"},
        Case{"github.nope == null", "true"}, Case{"github.run_number == 42", "true"},
        Case{"github.run_number == '42'", "true"}, Case{"matrix.node == '18'", "true"},
        Case{"1 == 1 == true", "true"}, Case{"'x' == 'x' == 1", "true"}));

class Comparison : public ::testing::TestWithParam<Case> {};
TEST_P(Comparison, Evaluate) { expectValue(GetParam()); }
INSTANTIATE_TEST_SUITE_P(
    Expr, Comparison,
    ::testing::Values(
        Case{"1 < 2", "true"}, Case{"2 < 1", "false"}, Case{"1 <= 1", "true"},
        Case{"2 <= 1", "false"}, Case{"2 > 1", "true"}, Case{"1 > 1", "false"},
        Case{"1 >= 1", "true"}, Case{"0 >= 1", "false"}, Case{"'a' < 'B'", "true"},
        Case{"'B' < 'a'", "false"}, Case{"'b' > 'A'", "true"}, Case{"'abc' <= 'ABC'", "true"},
        Case{"'abc' >= 'ABC'", "true"}, Case{"'ab' < 'abc'", "true"}, Case{"'2' > '10'", "true"},
        Case{"2 > '10'", "false"}, Case{"'2' > 10", "false"}, Case{"true > false", "true"},
        Case{"false < true", "true"}, Case{"true > true", "false"}, Case{"true >= true", "true"},
        Case{"null < 1", "true"}, Case{"null <= 0", "true"}, Case{"null >= 0", "true"},
        Case{"null > -1", "true"}, Case{"true > 0", "true"}, Case{"'abc' < 1", "false"},
        Case{"'abc' > 1", "false"}, Case{"'abc' >= 1", "false"}, Case{"NaN < 1", "false"},
        Case{"NaN > 1", "false"}, Case{"NaN >= NaN", "false"}, Case{"NaN <= NaN", "false"},
        Case{"Infinity > 1e300", "true"}, Case{"-Infinity < 0", "true"},
        Case{"matrix.list > 0", "false"}, Case{"matrix.list < 0", "false"},
        Case{"matrix.list >= matrix.list", "true"}, Case{"matrix.list > matrix.list", "false"},
        Case{"1 < 2 < 3", "true"}, Case{"3 > 2 > 1", "false"}, Case{"'' < 1", "true"},
        Case{"env.NUM > 9", "true"}, Case{"env.NUM > '9'", "false"},
        Case{"inputs.count >= 3", "true"}, Case{"1.5 > 1.4999999", "true"},
        Case{"-1 < -0.5", "true"}));

class Logical : public ::testing::TestWithParam<Case> {};
TEST_P(Logical, Evaluate) { expectValue(GetParam()); }
INSTANTIATE_TEST_SUITE_P(
    Expr, Logical,
    ::testing::Values(
        Case{"true && true", "true"}, Case{"true && false", "false"}, Case{"true && 'x'", "\"x\""},
        Case{"'' && 'x'", "\"\""}, Case{"0 && 'x'", "0"}, Case{"null && 'x'", "null"},
        Case{"'a' && 'b' && 'c'", "\"c\""}, Case{"'a' && '' && 'c'", "\"\""},
        Case{"0 || 'y'", "\"y\""}, Case{"'a' || 'b'", "\"a\""}, Case{"null || null", "null"},
        Case{"false || 0", "0"}, Case{"'' || null || 'z'", "\"z\""}, Case{"NaN || 'n'", "\"n\""},
        Case{"!0", "true"}, Case{"!1", "false"}, Case{"!'a'", "false"}, Case{"!''", "true"},
        Case{"!!'a'", "true"}, Case{"!null", "true"}, Case{"!NaN", "true"}, Case{"!-0", "true"},
        Case{"!matrix.list", "false"}, Case{"!fromJSON('[]')", "false"},
        Case{"!fromJSON('{}')", "false"}, Case{"!'false'", "false"}, Case{"!'0'", "false"},
        Case{"! true", "false"}, Case{"true || false && false", "true"},
        Case{"(true || false) && false", "false"}, Case{"false && true || true", "true"},
        Case{"false && (true || true)", "false"}, Case{"!true == false", "true"},
        Case{"!(1 == 2)", "true"}, Case{"!1 == 2", "false"}, Case{"1 == 1 && 2 == 2", "true"},
        Case{"false || 1 < 2", "true"}, Case{"1 < 2 == true", "true"}, Case{"1 == 2 < 3", "true"},
        Case{"env.EMPTY || 'default'", "\"default\""}, Case{"env.FOO && 'yes' || 'no'", "\"yes\""},
        Case{"env.EMPTY && 'yes' || 'no'", "\"no\""}, Case{"matrix.list && 'arr'", "\"arr\""},
        Case{"github.nope || matrix.list", "[1,2,3]"}, Case{"inputs.off || inputs.count", "3"},
        Case{"!inputs.flag", "false"}, Case{"true&&false", "false"}, Case{"true||false", "true"},
        Case{"1<2", "true"}, Case{"1==1", "true"}, Case{"!(!(!false))", "true"}));

class Access : public ::testing::TestWithParam<Case> {};
TEST_P(Access, Evaluate) { expectValue(GetParam()); }
INSTANTIATE_TEST_SUITE_P(
    Expr, Access,
    ::testing::Values(
        Case{"github.event_name", "\"push\""}, Case{"GITHUB.EVENT_NAME", "\"push\""},
        Case{"GitHub.Event_Name", "\"push\""}, Case{"github['event_name']", "\"push\""},
        Case{"github['EVENT_NAME']", "\"push\""}, Case{"github [ 'sha' ]", "\"abc123\""},
        Case{"github . sha", "\"abc123\""}, Case{"github.nope", "null"},
        Case{"github.nope.deeper.still", "null"}, Case{"github.nope[0]", "null"},
        Case{"matrix.list[0]", "1"}, Case{"matrix.list[2]", "3"}, Case{"matrix.list[3]", "null"},
        Case{"matrix.list[-1]", "null"}, Case{"matrix.list[1.7]", "2"},
        Case{"matrix.list[0.999]", "1"}, Case{"matrix.list['1']", "2"},
        Case{"matrix.list[' 2 ']", "3"}, Case{"matrix.list[true]", "2"},
        Case{"matrix.list[false]", "1"}, Case{"matrix.list[null]", "1"},
        Case{"matrix.list['x']", "null"}, Case{"matrix.list[NaN]", "null"},
        Case{"matrix.list[Infinity]", "null"}, Case{"matrix.list[1e10]", "null"},
        Case{"matrix.list['0x1']", "2"}, Case{"matrix.list[matrix.list]", "null"},
        Case{"matrix.list.foo", "null"}, Case{"matrix.list.length", "null"},
        Case{"matrix.nested.a.b.c", "\"deep\""}, Case{"matrix['nested']['a'].b['C']", "\"deep\""},
        Case{"matrix.nested['a']['b']", "{\"c\":\"deep\"}"}, Case{"matrix.node", "18"},
        Case{"matrix.os[0]", "null"}, Case{"matrix.os.length", "null"},
        Case{"matrix.numkeys[1]", "\"one\""}, Case{"matrix.numkeys['1']", "\"one\""},
        Case{"matrix.numkeys[1.0]", "\"one\""}, Case{"matrix.numkeys[true]", "\"yes\""},
        Case{"matrix.numkeys[null]", "\"empty\""}, Case{"matrix.numkeys[matrix.list]", "null"},
        Case{"matrix.mixed.camelkey", "\"camel\""}, Case{"matrix.MIXED.CAMELKEY", "\"camel\""},
        Case{"steps.build.outputs.result", "\"ok\""}, Case{"steps.my-step.outputs.x-y", "\"dash\""},
        Case{"steps['my-step'].outputs['x-y']", "\"dash\""},
        Case{"steps.missing.outputs.x", "null"}, Case{"secrets.TOKEN", "\"s3cr3t\""},
        Case{"github.run_number", "42"}, Case{"github.event.commits[1].author.name", "\"Bob\""},
        Case{"github.event.commits[0]['author']['NAME']", "\"Ann\""},
        Case{"(github.event).issue.labels[0].name", "\"bug\""},
        Case{"github.event.commits[matrix.list[0]].message", "\"two\""},
        Case{"fromJSON('{\"a\":{\"b\":[10,20]}}').a.b[1]", "20"}, Case{"fromJSON('[1,2]')[0]", "1"},
        Case{"format('x')[0]", "null"}, Case{"matrix.nested.null", "null"},
        Case{"matrix.nested.true", "null"}, Case{"needs", "{}"},
        Case{"inputs", "{\"flag\":true,\"count\":3,\"off\":false}"},
        Case{"github.event.nope.*", "[]"}));

class Filters : public ::testing::TestWithParam<Case> {};
TEST_P(Filters, Evaluate) { expectValue(GetParam()); }
INSTANTIATE_TEST_SUITE_P(
    Expr, Filters,
    ::testing::Values(
        Case{"github.event.commits.*.author.name", "[\"Ann\",\"Bob\"]"},
        Case{"github.event.commits[*].message", "[\"one\",\"two\"]"},
        Case{"github.event.commits.*['message']", "[\"one\",\"two\"]"},
        Case{"github.event.commits.*.MESSAGE", "[\"one\",\"two\"]"},
        Case{"github.event.issue.labels.*.name", "[\"bug\",\"Docs\"]"},
        Case{"matrix.list.*", "[1,2,3]"}, Case{"matrix.list[*]", "[1,2,3]"},
        Case{"matrix.nested.*", "[{\"b\":{\"c\":\"deep\"}}]"},
        Case{"matrix.nested.*.*.c", "[\"deep\"]"}, Case{"matrix.nested.*.b.*", "[\"deep\"]"},
        Case{"github.event.commits.*.nope", "[]"}, Case{"github.event.commits.*.author.nope", "[]"},
        Case{"matrix.os.*", "[]"}, Case{"github.nope.*", "[]"}, Case{"matrix.list.*[0]", "[]"},
        Case{"matrix.list.*.x", "[]"}, Case{"fromJSON('[[1,2],[3]]').*[0]", "[1,3]"},
        Case{"fromJSON('[[1,2],[3]]').*[1]", "[2]"}, Case{"fromJSON('[[1,2],[3]]').*[-1]", "[]"},
        Case{"fromJSON('[[1,2],[3]]').*['0']", "[1,3]"},
        Case{"fromJSON('[[1,2],[3]]').*.*", "[1,2,3]"},
        Case{"fromJSON('[{\"a\":1},{\"b\":2},{\"A\":3}]').*.a", "[1,3]"},
        Case{"fromJSON('[{\"a\":[1,2]},{\"a\":[3]}]').*.a.*", "[1,2,3]"},
        Case{"fromJSON('[{\"a\":[1,2]},{\"a\":[3]}]').*.a[1]", "[2]"},
        Case{"fromJSON('{\"x\":{\"n\":1},\"y\":{\"n\":2}}').*.n", "[1,2]"},
        Case{"fromJSON('[1,[2],{\"k\":3}]').*.*", "[2,3]"}, Case{"fromJSON('[]').*", "[]"},
        Case{"fromJSON('{}').*", "[]"},
        Case{"contains(github.event.issue.labels.*.name, 'bug')", "true"},
        Case{"contains(github.event.issue.labels.*.name, 'DOCS')", "true"},
        Case{"contains(github.event.issue.labels.*.name, 'feature')", "false"},
        Case{"contains(github.event.commits.*, github.event.commits[1])", "true"},
        Case{"join(github.event.commits.*.author.name, ', ')", "\"Ann, Bob\""},
        Case{"toJSON(matrix.list.*)", "\"[\\n  1,\\n  2,\\n  3\\n]\""},
        Case{"toJSON(github.nope.*)", "\"[]\""}, Case{"format('{0}', matrix.list.*)", "\"Array\""},
        Case{"!matrix.os.*", "false"}, Case{"matrix.list.* && 'x'", "\"x\""},
        Case{"(matrix.list.*)[0]", "[]"}));

}  // namespace
}  // namespace nixjail::runner::expr
