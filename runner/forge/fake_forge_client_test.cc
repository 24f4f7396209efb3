// FakeForgeClient keeps the forges' log/ack, outputs and cancellation semantics.
#include "runner/forge/fake_forge_client.h"

#include <gtest/gtest.h>

namespace nixjail::runner::forge {
namespace {

TEST(FakeForgeClient, HandsOutQueuedTasksAndRecordsWhatItGets) {
    FakeForgeClient forge;
    EXPECT_FALSE(forge.fetchTask(0).task);
    forge.enqueueTask({.id = 5, .workflow_payload = "jobs: {}"});
    auto f = forge.fetchTask(0);
    ASSERT_TRUE(f.task);
    EXPECT_EQ(f.task->id, 5);
    EXPECT_EQ(forge.updateLog(5, 0, {{Clock::now(), "a"}, {Clock::now(), "b"}}, false), 2);
    EXPECT_EQ(forge.updateLog(5, 1, {{Clock::now(), "b"}, {Clock::now(), "c"}}, false), 3);
    EXPECT_EQ(forge.updateLog(5, 9, {{Clock::now(), "gap"}}, false), 3);
    EXPECT_EQ(forge.updateTask({5}, {{"x", "1"}}).sent_outputs, std::vector<std::string>{"x"});
    forge.updateTask({5}, {{"x", "2"}});
    forge.cancel(5);
    EXPECT_EQ(forge.updateTask({5}, {}).result, Result::Cancelled);
    auto rec = forge.task(5);
    ASSERT_TRUE(rec);
    EXPECT_EQ(rec->log.size(), 3u);
    EXPECT_EQ(rec->log[2].content, "c");
    EXPECT_EQ(rec->outputs.at("x"), "1");
    EXPECT_EQ(rec->states.size(), 3u);
}

TEST(FakeForgeClient, ScriptedFailuresComeFirst) {
    FakeForgeClient forge;
    forge.failNextCall(ForgeError("down", "unavailable", 503));
    forge.failNextCall(UnauthenticatedError("gone", "unauthenticated", 401));
    EXPECT_THROW(forge.ping("x"), ForgeError);
    EXPECT_THROW(forge.ping("x"), UnauthenticatedError);
    EXPECT_EQ(forge.ping("x"), "Hello, x!");
    EXPECT_THROW(forge.updateTask({99}, {}), ForgeError);
}

}  // namespace
}  // namespace nixjail::runner::forge
