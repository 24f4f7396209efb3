// Running a tool: extra variables replace the runner's own, output is captured whole.
#include "workspace-cache/command_output.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace nixjail::cache {
namespace {

TEST(RunCommand, AnExtraVariableReplacesTheProcesssOwn) {
    ::setenv("NIXJAIL_COMMAND_TEST", "the runner's", 1);
    const auto r = runCommand({"/bin/sh", "-c", "echo \"$NIXJAIL_COMMAND_TEST\"; env | grep -c '^NIXJAIL_COMMAND_TEST='"},
                              {"NIXJAIL_COMMAND_TEST=the tool's"});
    ::unsetenv("NIXJAIL_COMMAND_TEST");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(outputLines(r.out), (std::vector<std::string>{"the tool's", "1"}));
}

TEST(RunCommand, TheProcesssOtherVariablesStayAndStderrIsKeptApart) {
    ::setenv("NIXJAIL_COMMAND_KEPT", "kept", 1);
    const auto r = runCommand({"/bin/sh", "-c", "echo \"$NIXJAIL_COMMAND_KEPT $EXTRA\"; echo oops >&2; exit 3"},
                              {"EXTRA=added"});
    ::unsetenv("NIXJAIL_COMMAND_KEPT");
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.out, "kept added\n");
    EXPECT_EQ(r.err, "oops\n");
}

}  // namespace
}  // namespace nixjail::cache
