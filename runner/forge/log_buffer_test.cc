// LogBuffer bookkeeping and uploadLog against the FakeForgeClient's forge semantics.
#include "runner/forge/log_buffer.h"

#include <gtest/gtest.h>

#include "runner/forge/backoff.h"
#include "runner/forge/fake_forge_client.h"

namespace nixjail::runner::forge {
namespace {

TEST(LogBuffer, IndexesAndAcks) {
    LogBuffer b;
    EXPECT_EQ(b.append({Clock::now(), "a"}), 0);
    EXPECT_EQ(b.append({Clock::now(), "b"}), 1);
    EXPECT_EQ(b.append({Clock::now(), "c"}), 2);
    EXPECT_EQ(b.pending(2).size(), 2u);
    b.acknowledge(2);
    EXPECT_EQ(b.acked(), 2);
    ASSERT_EQ(b.pending(10).size(), 1u);
    EXPECT_EQ(b.pending(10)[0].content, "c");
    EXPECT_THROW(b.acknowledge(1), ForgeError);
    EXPECT_THROW(b.acknowledge(4), ForgeError);
}

TEST(LogBuffer, UploadSendsBatchesAndSealsWithSentinelWhenEmpty) {
    FakeForgeClient forge;
    forge.enqueueTask({.id = 3});
    ASSERT_TRUE(forge.fetchTask(0).task);
    LogBuffer b;
    for (int i = 0; i < 250; ++i) b.append({Clock::now(), "row " + std::to_string(i)});
    uploadLog(forge, 3, b, false, 100);
    EXPECT_TRUE(b.allAcked());
    EXPECT_EQ(forge.task(3)->log.size(), 250u);
    EXPECT_FALSE(forge.task(3)->sealed);
    uploadLog(forge, 3, b, true);
    EXPECT_TRUE(forge.task(3)->sealed);
    EXPECT_EQ(forge.task(3)->log.size(), 251u);
    EXPECT_EQ(forge.task(3)->log.back().content, "");
}

TEST(LogBuffer, FailedUploadKeepsRowsForTheRetry) {
    FakeForgeClient forge;
    forge.enqueueTask({.id = 3});
    ASSERT_TRUE(forge.fetchTask(0).task);
    LogBuffer b;
    b.append({Clock::now(), "x"});
    forge.failNextCall(ForgeError("down", "unavailable", 503));
    EXPECT_THROW(uploadLog(forge, 3, b, false), ForgeError);
    EXPECT_EQ(b.acked(), 0);
    uploadLog(forge, 3, b, true);
    ASSERT_EQ(forge.task(3)->log.size(), 1u);
    EXPECT_EQ(forge.task(3)->log[0].content, "x");
    EXPECT_TRUE(forge.task(3)->sealed);
}

TEST(Backoff, DoublesUpToTheCapAndResets) {
    using std::chrono::milliseconds;
    Backoff b(milliseconds(100), milliseconds(1000), 0.0);
    EXPECT_EQ(b.next(), milliseconds(100));
    EXPECT_EQ(b.next(), milliseconds(200));
    EXPECT_EQ(b.next(), milliseconds(400));
    EXPECT_EQ(b.next(), milliseconds(800));
    EXPECT_EQ(b.next(), milliseconds(1000));
    EXPECT_EQ(b.next(), milliseconds(1000));
    b.reset();
    EXPECT_EQ(b.next(), milliseconds(100));
}

TEST(Backoff, JitterStaysWithinBounds) {
    using std::chrono::milliseconds;
    Backoff b(milliseconds(1000), milliseconds(1000), 0.2, 42);
    for (int i = 0; i < 100; ++i) {
        auto d = b.next();
        EXPECT_GE(d, milliseconds(800));
        EXPECT_LE(d, milliseconds(1000));
    }
}

}  // namespace
}  // namespace nixjail::runner::forge
