// replay's comparison with the record: steps side by side, the closure, the warnings.
#include "runner/cli/replay_report.h"

#include <gtest/gtest.h>

namespace nixjail::runner::cli {
namespace {

store::StepRecord recorded(int64_t index, const std::string& name, const std::string& status) {
    store::StepRecord s;
    s.index = index;
    s.name = name;
    s.status = status;
    return s;
}

daemon::RootRecord root(const std::string& key, const std::string& identity = "id") {
    return {.packages = {"bash"},
            .source = "1 packages",
            .closure_key = key,
            .nixpkgs = "/nixpkgs",
            .nixpkgs_identity = identity};
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(ReplayComparison, TheSameStepsAndClosureSaySoWithoutWarnings) {
    const auto c = compareReplay(
        {recorded(0, "checkout", "success"), recorded(1, "test", "skipped")},
        {{0, "checkout", "success"}, {1, "test", "skipped"}}, root("3f9c"), root("3f9c"));
    EXPECT_TRUE(c.steps_same);
    EXPECT_TRUE(c.closure_same);
    EXPECT_TRUE(comparisonWarnings(c).empty());
    const auto text = comparisonText(c);
    EXPECT_TRUE(has(text, "steps: the same results as recorded")) << text;
    EXPECT_TRUE(has(text, "closure: 3f9c (the same as recorded)")) << text;
    const auto json = comparisonJson(c);
    EXPECT_EQ(json["closure"]["recorded"], "3f9c");
    EXPECT_EQ(json["closure"]["same"], true);
    EXPECT_EQ(json["steps"][1]["recorded"], "skipped");
    EXPECT_EQ(json["steps"][1]["replay"], "skipped");
}

TEST(ReplayComparison, ADifferentResultOrAMissingStepIsADifference) {
    const auto c = compareReplay({recorded(0, "build", "success"), recorded(1, "test", "success")},
                                 {{0, "build", "failure"}}, std::nullopt, std::nullopt);
    EXPECT_FALSE(c.steps_same);
    EXPECT_TRUE(c.closure_same) << "no root then and now";
    const auto text = comparisonText(c);
    EXPECT_TRUE(has(text, "1   build  success    failure\n")) << text;
    EXPECT_TRUE(has(text, "2   test   success    -\n")) << text;
    EXPECT_TRUE(has(text, "closure: none")) << text;
    const auto warnings = comparisonWarnings(c);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_TRUE(has(warnings[0], "step results differ")) << warnings[0];
    EXPECT_TRUE(comparisonJson(c)["steps"][1]["replay"].is_null());
}

TEST(ReplayComparison, AnotherClosureIsAWarningNamingBoth) {
    const auto c = compareReplay({}, {}, root("aaaa"), root("bbbb"));
    EXPECT_FALSE(c.closure_same);
    const auto warnings = comparisonWarnings(c);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_TRUE(has(warnings[0], "recorded aaaa (1 packages), replay bbbb (1 packages)"))
        << warnings[0];
    const auto none = comparisonWarnings(compareReplay({}, {}, root("aaaa"), std::nullopt));
    ASSERT_EQ(none.size(), 1u);
    EXPECT_TRUE(has(none[0], "the replay made none")) << none[0];
}

TEST(ReplayComparison, TheSameNixpkgsChangedSinceIsAWarningToo) {
    const auto c = compareReplay({}, {}, root("aaaa", "then"), root("aaaa", "now"));
    EXPECT_TRUE(c.closure_same);
    EXPECT_TRUE(c.nixpkgs_changed);
    const auto warnings = comparisonWarnings(c);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_TRUE(has(warnings[0], "nixpkgs '/nixpkgs' is not what it was")) << warnings[0];
}

}  // namespace
}  // namespace nixjail::runner::cli
