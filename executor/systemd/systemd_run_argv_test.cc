// The systemd-run command line of a step and unit names.
#include "executor/systemd/systemd_run_argv.h"

#include <gtest/gtest.h>

#include "executor/namespace/golden.h"
#include "runner/base/error.h"

namespace nixjail::executor::sysd {
namespace {

SystemdRunInputs sample() {
    return {.systemd_run = "systemd-run",
            .unit = "nixjail-42-1-0badcafe.service",
            .properties = {"Type=exec", "RootDirectory=/r", "CapabilityBoundingSet="},
            .env = {"PATH=/usr/bin:/bin", "GREETING=hello world", "EMPTY="},
            .cwd = "/workspace",
            .argv = {"/bin/sh", "-e", "/runner/temp/step.sh", "--wait"}};
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += x + "\n";
    return s;
}

TEST(SystemdRunArgv, MatchesGolden) {
    testing::expectGolden("systemd_run_argv.txt", joined(systemdRunArgv(sample())));
}

TEST(SystemdRunArgv, WaitsPipesCollectsAndEndsOptionsBeforeTheStep) {
    auto argv = systemdRunArgv(sample());
    for (const char* flag : {"--wait", "--pipe", "--collect", "--quiet"}) {
        EXPECT_NE(std::find(argv.begin(), argv.end(), flag), argv.end()) << flag;
    }
    auto dashdash = std::find(argv.begin(), argv.end(), "--");
    ASSERT_NE(dashdash, argv.end());
    // The step's own "--wait" stays the step's.
    EXPECT_EQ(std::vector<std::string>(dashdash + 1, argv.end()),
              (std::vector<std::string>{"/bin/sh", "-e", "/runner/temp/step.sh", "--wait"}));
    EXPECT_NE(std::find(argv.begin(), argv.end(), "--setenv=GREETING=hello world"), argv.end());
    EXPECT_NE(std::find(argv.begin(), argv.end(), "--property=WorkingDirectory=-/workspace"), argv.end());
}

TEST(SystemdRunArgv, DollarsInTheStepsArgumentsReachItLiterally) {
    // systemd would expand $X, ${X} and $$ in a unit's arguments; "$$" is its literal '$'.
    auto in = sample();
    in.argv = {"/bin/sh", "-c", "echo $HOME ${X} $$ cost$", "$X"};
    auto argv = systemdRunArgv(in);
    auto dashdash = std::find(argv.begin(), argv.end(), "--");
    ASSERT_NE(dashdash, argv.end());
    EXPECT_EQ(std::vector<std::string>(dashdash + 1, argv.end()),
              (std::vector<std::string>{"/bin/sh", "-c", "echo $$HOME $${X} $$$$ cost$$", "$$X"}));
    // Environment values are not expanded by systemd and pass as they are.
    in.env = {"PRICE=$5 ${X}"};
    argv = systemdRunArgv(in);
    EXPECT_NE(std::find(argv.begin(), argv.end(), "--setenv=PRICE=$5 ${X}"), argv.end());
}

TEST(SystemdRunArgv, EnvironmentEntryWithoutEqualsIsRefused) {
    auto in = sample();
    in.env.push_back("NOEQUALS");
    EXPECT_THROW(systemdRunArgv(in), base::Error);
}

TEST(UnitName, JobIdIsReducedToSafeCharacters) {
    EXPECT_EQ(unitName("", "owner/repo#12 build", 3, "00ff00ff"),
              "nixjail-owner_repo_12_build-3-00ff00ff.service");
    EXPECT_EQ(unitName("", "", 1, "n"), "nixjail-job-1-n.service");
    EXPECT_EQ(unitName("", std::string(200, 'x'), 1, "n"),
              "nixjail-" + std::string(64, 'x') + "-1-n.service");
}

// A runner's units carry its instance tag, which the start-up sweep's pattern matches; another
// instance's units (even one whose tag starts the same) do not match it.
TEST(UnitName, InstanceTagNamesTheRunnersUnitsAndItsSweepPattern) {
    EXPECT_EQ(unitName("ab12-cd", "build", 2, "n"), "nixjail-ab12_cd--build-2-n.service");
    EXPECT_EQ(unitPattern("ab12-cd"), "nixjail-ab12_cd--*.service");
    EXPECT_EQ(unitPattern("ab12"), "nixjail-ab12--*.service");
    EXPECT_EQ(unitName("ab12", "x", 1, "n").rfind("nixjail-ab12--", 0), 0u);
    EXPECT_NE(unitName("ab12-cd", "x", 1, "n").rfind("nixjail-ab12--", 0), 0u);
}

}  // namespace
}  // namespace nixjail::executor::sysd
