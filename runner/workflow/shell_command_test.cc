#include "runner/workflow/shell_command.h"

#include <gtest/gtest.h>

namespace nixjail::runner::workflow {
namespace {

using V = std::vector<std::string>;

TEST(ShellCommand, BashUsesActionsTemplate) {
    EXPECT_EQ(shellCommand("bash", true, "/t/s.sh").argv, (V{"bash", "--noprofile", "--norc", "-eo", "pipefail", "/t/s.sh"}));
}

TEST(ShellCommand, DefaultIsBashDashEWithShFallback) {
    EXPECT_EQ(shellCommand("", true, "/t/s.sh").argv, (V{"bash", "-e", "/t/s.sh"}));
    EXPECT_EQ(shellCommand("", false, "/t/s.sh").argv, (V{"sh", "-e", "/t/s.sh"}));
}

TEST(ShellCommand, ShAndPython) {
    EXPECT_EQ(shellCommand("sh", true, "/s").argv, (V{"sh", "-e", "/s"}));
    EXPECT_EQ(shellCommand("python", true, "/s.py").argv, (V{"python", "/s.py"}));
    EXPECT_EQ(scriptSuffix("python", true), ".py");
}

TEST(ShellCommand, CustomTemplateSubstitutesEveryPlaceholder) {
    EXPECT_EQ(shellCommand("perl -w {0} {0}", true, "/s").argv, (V{"perl", "-w", "/s", "/s"}));
    EXPECT_EQ(scriptSuffix("perl {0}", true), "");
}

TEST(ShellCommand, PwshQuotedArgumentStaysOneWord) {
    EXPECT_EQ(shellCommand("pwsh", true, "/s.ps1").argv, (V{"pwsh", "-command", ". '/s.ps1'"}));
}

TEST(ShellCommand, UnknownShellIsAnError) {
    EXPECT_NE(shellTemplateError("zsh").find("unknown shell 'zsh'"), std::string::npos);
    EXPECT_NE(shellTemplateError("cmd").find("Windows"), std::string::npos);
    EXPECT_EQ(shellTemplateError("zsh {0}"), "");
}

}  // namespace
}  // namespace nixjail::runner::workflow
