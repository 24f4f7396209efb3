// `${{ }}` in text: interpolation, typed templates and `if:` conditions.
#include <gtest/gtest.h>

#include <string>

#include "runner/expr/expr.h"
#include "runner/expr/test_context.h"

namespace nixjail::runner::expr {
namespace {

struct TextCase {
    const char* text;
    const char* expected;
};

void PrintTo(const TextCase& c, std::ostream* os) { *os << c.text; }

class Interpolate : public ::testing::TestWithParam<TextCase> {};

TEST_P(Interpolate, ReplacesEachExpression) {
    auto ctx = testing::testContext();
    auto r = interpolate(GetParam().text, ctx);
    ASSERT_TRUE(r.has_value()) << r.error().format();
    EXPECT_EQ(*r, GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Expr, Interpolate,
    ::testing::Values(
        TextCase{"hello ${{ env.FOO }}!", "hello bar!"}, TextCase{"${{ 1 }}${{ 2 }}", "12"},
        TextCase{"${{ null }}", ""}, TextCase{"[${{ github.nope }}]", "[]"},
        TextCase{"${{ matrix.list }}", "Array"}, TextCase{"${{ github.event }}", "Object"},
        TextCase{"${{ 1.0 }}", "1"}, TextCase{"${{ 1e20 }}", "1E+20"},
        TextCase{"${{ 0.5 }}", "0.5"}, TextCase{"${{ true }}", "true"},
        TextCase{"${{ 1 == 2 }}", "false"}, TextCase{"no expression", "no expression"},
        TextCase{"", ""}, TextCase{"${{ '}}' }}", "}}"}, TextCase{"${{ 'a''b' }}", "a'b"},
        TextCase{"${{ '${{' }}", "${{"}, TextCase{"$ {{ x }}", "$ {{ x }}"},
        TextCase{"${ { x } }", "${ { x } }"}, TextCase{"{{ x }}", "{{ x }}"},
        TextCase{"${{ env.FOO }} ${{ env.MISSING }}.", "bar ."}, TextCase{"${{env.FOO}}", "bar"},
        TextCase{"${{\n  env.FOO\n}}", "bar"}, TextCase{"a ${{ format('{0}', 'b') }} c", "a b c"},
        TextCase{"${{ toJSON(matrix.list) }}", "[\n  1,\n  2,\n  3\n]"},
        TextCase{"echo \"${{ github.event.commits[0].message }}\"\necho done",
                 "echo \"one\"\necho done"},
        TextCase{"${{ github.run_number }}", "42"}, TextCase{"}} ${{ 1 }} }}", "}} 1 }}"},
        TextCase{"${{ matrix.node }}-${{ matrix.os }}", "18-ubuntu"}));

struct TextError {
    const char* text;
    const char* message;
    size_t position;
};

void PrintTo(const TextError& c, std::ostream* os) { *os << c.text; }

class InterpolateErrors : public ::testing::TestWithParam<TextError> {};

TEST_P(InterpolateErrors, PointIntoTheWholeText) {
    auto ctx = testing::testContext();
    auto r = interpolate(GetParam().text, ctx);
    ASSERT_FALSE(r.has_value()) << *r;
    EXPECT_NE(r.error().message.find(GetParam().message), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().position, GetParam().position) << r.error().format();
    EXPECT_EQ(r.error().expression, GetParam().text);
}

INSTANTIATE_TEST_SUITE_P(
    Expr, InterpolateErrors,
    ::testing::Values(TextError{"${{ 1", "not closed", 0},
                      TextError{"ok ${{ 1 }} ${{ 2", "not closed", 12},
                      TextError{"${{ '}} }}", "not closed", 0},
                      TextError{"${{ }}", "An expression was expected", 0},
                      TextError{"x ${{ bogus }}", "Unrecognized named-value: 'bogus'", 6},
                      TextError{"line1\n${{ 1 == }}", "Unexpected end of expression", 12},
                      TextError{"${{ foo() }}", "Unrecognized function: 'foo'", 4},
                      TextError{"a${{ format('{9}') }}", "references more arguments", 5},
                      TextError{"${{ success() }}", "is not allowed here", 4}));

TEST(ExprInterpolate, ErrorFormatShowsTheLine) {
    auto ctx = testing::testContext();
    auto r = interpolate("echo one\necho ${{ bogus }}\necho three", ctx);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().format(), "Unrecognized named-value: 'bogus'\n  echo ${{ bogus }}\n" +
                                      std::string(11, ' ') + "^");
}

class Template : public ::testing::TestWithParam<TextCase> {};

TEST_P(Template, KeepsTheTypeOfASingleExpression) {
    auto ctx = testing::testContext();
    auto r = evaluateTemplate(GetParam().text, ctx);
    ASSERT_TRUE(r.has_value()) << r.error().format();
    EXPECT_EQ(*r, Value::parse(GetParam().expected)) << r->dump();
}

INSTANTIATE_TEST_SUITE_P(
    Expr, Template,
    ::testing::Values(TextCase{"${{ matrix.list }}", "[1,2,3]"}, TextCase{"${{ 1 }}", "1"},
                      TextCase{" ${{ true }} ", "true"}, TextCase{"${{ inputs.flag }}\n", "true"},
                      TextCase{"${{ null }}", "null"},
                      TextCase{"${{ matrix.nested.a }}", "{\"b\":{\"c\":\"deep\"}}"},
                      TextCase{"${{ fromJSON('{\"a\":1}') }}", "{\"a\":1}"},
                      TextCase{"a${{ 1 }}", "\"a1\""}, TextCase{"${{ 1 }}${{ 2 }}", "\"12\""},
                      TextCase{"${{ 1 }} ${{ 2 }}", "\"1 2\""}, TextCase{"plain", "\"plain\""},
                      TextCase{"", "\"\""}, TextCase{"30", "\"30\""},
                      TextCase{"${{ github.event.commits.*.author.name }}", "[\"Ann\",\"Bob\"]"},
                      TextCase{"${{ '}}' }}", "\"}}\""},
                      TextCase{"${{ github.run_number }}", "42"}));

TEST(ExprTemplate, ErrorsPointIntoTheWholeText) {
    auto ctx = testing::testContext();
    auto r = evaluateTemplate("  ${{ bogus }}", ctx);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().position, 6u);
    EXPECT_EQ(r.error().expression, "  ${{ bogus }}");
}

EvalContext conditionContext(bool success, bool failure = false, bool cancelled = false) {
    auto ctx = testing::testContext();
    ctx.success = [success] { return success; };
    ctx.failure = [failure] { return failure; };
    ctx.cancelled = [cancelled] { return cancelled; };
    return ctx;
}

struct CondCase {
    const char* condition;
    bool whenSucceeding;  // result while the job succeeds so far
    bool whenFailed;      // result after a failure (success() false, failure() true)
};

void PrintTo(const CondCase& c, std::ostream* os) { *os << c.condition; }

class Condition : public ::testing::TestWithParam<CondCase> {};

TEST_P(Condition, AddsImplicitSuccess) {
    const auto& c = GetParam();
    auto ok = evaluateCondition(c.condition, conditionContext(true));
    ASSERT_TRUE(ok.has_value()) << ok.error().format();
    EXPECT_EQ(*ok, c.whenSucceeding) << c.condition;
    auto failed = evaluateCondition(c.condition, conditionContext(false, true));
    ASSERT_TRUE(failed.has_value()) << failed.error().format();
    EXPECT_EQ(*failed, c.whenFailed) << c.condition;
}

INSTANTIATE_TEST_SUITE_P(
    Expr, Condition,
    ::testing::Values(
        CondCase{"", true, false}, CondCase{"   ", true, false}, CondCase{"true", true, false},
        CondCase{"false", false, false}, CondCase{"github.event_name == 'push'", true, false},
        CondCase{"github.event_name == 'pull_request'", false, false},
        CondCase{"${{ github.event_name == 'push' }}", true, false},
        CondCase{"${{ false }}", false, false}, CondCase{"  ${{ true }}  ", true, false},
        CondCase{"always()", true, true}, CondCase{"${{ always() }}", true, true},
        CondCase{"success()", true, false}, CondCase{"failure()", false, true},
        CondCase{"cancelled()", false, false}, CondCase{"!cancelled()", true, true},
        CondCase{"success() || failure()", true, true},
        CondCase{"failure() && github.event_name == 'push'", false, true},
        CondCase{"always() && false", false, false}, CondCase{"ALWAYS()", true, true},
        CondCase{"'success()'", true, false}, CondCase{"env.EMPTY", false, false},
        CondCase{"env.FOO", true, false}, CondCase{"matrix.list", true, false},
        CondCase{"contains(github.ref, 'main')", true, false},
        CondCase{"${{ false }} extra", true, false}, CondCase{"x ${{ 1 }}", true, false},
        CondCase{"${{ always() }} x", true, true}, CondCase{"0", false, false},
        CondCase{"NaN", false, false}));

TEST(ExprCondition, ShortCircuitsWhenTheJobFailed) {
    // `success() && (...)`: the condition is parsed but not evaluated after a failure.
    auto failed = conditionContext(false, true);
    auto r = evaluateCondition("format('{3}') == 'x'", failed);
    ASSERT_TRUE(r.has_value()) << r.error().format();
    EXPECT_FALSE(*r);
    EXPECT_FALSE(evaluateCondition("format('{3}') == 'x'", conditionContext(true)).has_value());
    EXPECT_FALSE(evaluateCondition("1 ==", failed).has_value()) << "syntax errors still count";
}

TEST(ExprCondition, ErrorsPointIntoTheCondition) {
    auto ctx = conditionContext(true);
    auto r = evaluateCondition("${{ bogus }}", ctx);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().position, 4u);
    EXPECT_EQ(r.error().expression, "${{ bogus }}");
    auto plain = evaluateCondition("  1 == bogus", ctx);
    ASSERT_FALSE(plain.has_value());
    EXPECT_EQ(plain.error().position, 7u);
    auto empty = evaluateCondition("${{ }}", ctx);
    ASSERT_FALSE(empty.has_value());
    EXPECT_NE(empty.error().message.find("An expression was expected"), std::string::npos);
}

TEST(ExprCondition, WithoutCallbacksStatusFunctionsAreErrors) {
    auto ctx = testing::testContext();
    EXPECT_EQ(*evaluateCondition("true", ctx), true);
    EXPECT_EQ(*evaluateCondition("", ctx), true);
    auto r = evaluateCondition("success()", ctx);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("is not allowed here"), std::string::npos);
}

TEST(ExprCondition, CancelledJobs) {
    auto ctx = conditionContext(false, false, true);
    EXPECT_EQ(*evaluateCondition("cancelled()", ctx), true);
    EXPECT_EQ(*evaluateCondition("true", ctx), false);
    EXPECT_EQ(*evaluateCondition("always()", ctx), true);
    EXPECT_EQ(*evaluateCondition("!cancelled()", ctx), false);
}

struct UsesCase {
    const char* condition;
    bool uses;
};

void PrintTo(const UsesCase& c, std::ostream* os) { *os << c.condition; }

class UsesStatus : public ::testing::TestWithParam<UsesCase> {};

TEST_P(UsesStatus, FindsCallsNotText) {
    EXPECT_EQ(usesStatusFunction(GetParam().condition), GetParam().uses) << GetParam().condition;
}

INSTANTIATE_TEST_SUITE_P(
    Expr, UsesStatus,
    ::testing::Values(UsesCase{"success()", true}, UsesCase{"SUCCESS()", true},
                      UsesCase{"failure()", true}, UsesCase{"cancelled()", true},
                      UsesCase{"always()", true}, UsesCase{"always ()", true},
                      UsesCase{"'success()'", false}, UsesCase{"github.x && failure()", true},
                      UsesCase{"${{ always() }}", true}, UsesCase{"x ${{ always() }}", true},
                      UsesCase{"foo", false}, UsesCase{"contains(x, 'always()')", false},
                      UsesCase{"always", false}, UsesCase{"github.always", false},
                      UsesCase{"format('{0}', cancelled())", true},
                      UsesCase{"unknownfn(failure())", true}, UsesCase{"1 ==", false},
                      UsesCase{"", false}, UsesCase{"!cancelled()", true}));

TEST(ExprContainsExpression, LooksForTheOpeningBraces) {
    EXPECT_TRUE(containsExpression("a ${{ b }}"));
    EXPECT_TRUE(containsExpression("${{"));
    EXPECT_FALSE(containsExpression("a { b }"));
    EXPECT_FALSE(containsExpression("$ {{"));
    EXPECT_FALSE(containsExpression(""));
    EXPECT_TRUE(containsExpression("echo ${{ github.sha }}"));
    EXPECT_FALSE(containsExpression("echo $HOME {{ x }} $ {{ y }}"));
    // Without a mark, interpolation gives the text back whatever the contexts hold.
    EvalContext empty;
    const std::string plain = "echo '}}' \"$X\" {{ y }}";
    ASSERT_FALSE(containsExpression(plain));
    EXPECT_EQ(*interpolate(plain, empty), plain);
}

}  // namespace
}  // namespace nixjail::runner::expr
