#include "runner/actions/workflow_command.h"

#include <gtest/gtest.h>

namespace nixjail::runner::actions {
namespace {

TEST(WorkflowCommand, PlainLineIsNoCommand) {
    EXPECT_FALSE(parseWorkflowCommand("hello"));
    EXPECT_FALSE(parseWorkflowCommand(":: no name"));
    EXPECT_FALSE(parseWorkflowCommand("::unterminated"));
}

TEST(WorkflowCommand, PropertiesAndMessage) {
    auto c = parseWorkflowCommand("::error file=a.c,line=3,col=9,title=Bad thing::it broke");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->name, "error");
    EXPECT_EQ(c->properties.at("file"), "a.c");
    EXPECT_EQ(c->properties.at("line"), "3");
    EXPECT_EQ(c->properties.at("title"), "Bad thing");
    EXPECT_EQ(c->message, "it broke");
}

TEST(WorkflowCommand, EscapesInDataAndProperties) {
    auto c = parseWorkflowCommand("::warning title=a%3Ab%2Cc%25::line1%0Aline2%25 %3A");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->properties.at("title"), "a:b,c%");
    EXPECT_EQ(c->message, "line1\nline2% %3A");
}

TEST(WorkflowCommand, LeadingWhitespaceAllowed) {
    auto c = parseWorkflowCommand("   ::add-mask::secret");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->name, "add-mask");
    EXPECT_EQ(c->message, "secret");
}

TEST(WorkflowCommand, NamesAndPropertyKeysIgnoreCaseAfterAnyLeadingWhitespace) {
    auto c = parseWorkflowCommand("\t \v::ADD-Mask::Value");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->name, "add-mask");
    EXPECT_EQ(c->message, "Value");
    c = parseWorkflowCommand("::Error FILE=a.c,Line=3::x");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->name, "error");
    EXPECT_EQ(c->properties.at("file"), "a.c");
    EXPECT_EQ(c->properties.at("line"), "3");
}

TEST(WorkflowCommand, MessageMayContainDoubleColons) {
    auto c = parseWorkflowCommand("::notice::a::b");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->message, "a::b");
}

}  // namespace
}  // namespace nixjail::runner::actions
