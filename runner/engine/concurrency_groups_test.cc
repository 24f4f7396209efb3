// One run's concurrency groups: one instance at a time, one waiting, a newer waiting one displaces
// the older, cancel-in-progress stops the running one, and a freed group passes to its waiter.
#include "runner/engine/concurrency_groups.h"

#include <gtest/gtest.h>

namespace nixjail::runner::engine {
namespace {

ConcurrencyGroups::Waiting waiting(const std::string& job, const std::string& group) {
    JobInstance inst;
    inst.display_name = job;
    return {job, inst, group};
}

TEST(ConcurrencyGroups, OneRunsOneWaitsANewerWaiterDisplacesTheOlder) {
    ConcurrencyGroups groups;
    std::stop_source first;
    ASSERT_TRUE(groups.take("deploy"));
    groups.started("deploy", &first);
    EXPECT_FALSE(groups.take("deploy")) << "held by the first instance";
    EXPECT_TRUE(groups.take("other")) << "groups are independent";

    EXPECT_FALSE(groups.wait(waiting("b", "deploy"), false)) << "nothing waited before";
    const auto displaced = groups.wait(waiting("c", "deploy"), false);
    ASSERT_TRUE(displaced);
    EXPECT_EQ(displaced->job_id, "b");
    EXPECT_FALSE(first.stop_requested()) << "without cancel-in-progress the running one goes on";
    EXPECT_FALSE(groups.nextReady()) << "the group is still held";

    EXPECT_FALSE(groups.release("deploy", &first));
    const auto next = groups.nextReady();
    ASSERT_TRUE(next);
    EXPECT_EQ(next->job_id, "c");
    EXPECT_FALSE(groups.nextReady());
    EXPECT_FALSE(groups.take("deploy")) << "passed to the waiter, which starts now";
}

TEST(ConcurrencyGroups, CancelInProgressStopsTheRunningInstanceAndSaysSo) {
    ConcurrencyGroups groups;
    std::stop_source running;
    ASSERT_TRUE(groups.take("g"));
    groups.started("g", &running);
    groups.wait(waiting("newer", "g"), true);
    EXPECT_TRUE(running.stop_requested());
    EXPECT_TRUE(groups.stoppedByGroup(&running));
    EXPECT_TRUE(groups.release("g", &running)) << "its group stopped it";
    EXPECT_FALSE(groups.stoppedByGroup(&running));
    EXPECT_EQ(ConcurrencyGroups::lostMessage("g"),
              "Canceling since a higher priority waiting request for 'g' exists");
}

TEST(ConcurrencyGroups, AnInstanceWithoutAGroupReleasesNothing) {
    ConcurrencyGroups groups;
    std::stop_source stop;
    EXPECT_FALSE(groups.release("", &stop));
    EXPECT_FALSE(groups.nextReady());
}

}  // namespace
}  // namespace nixjail::runner::engine
