// Id map planning for root and unprivileged runners.
#include "executor/namespace/userns.h"

#include <gtest/gtest.h>

namespace nixjail::executor::ns {
namespace {

TEST(IdMaps, RootRunnerMapsADedicatedUnprivilegedRange) {
    auto plan = planIdMaps(true, 0, 0, 0x70000000);
    EXPECT_EQ(plan.uid_map, "0 1879048192 65536\n");
    EXPECT_EQ(plan.gid_map, "0 1879048192 65536\n");
    EXPECT_FALSE(plan.deny_setgroups);
    EXPECT_TRUE(plan.setup_as_root);
    EXPECT_EQ(plan.step_host_uid, 0x70000000u + 1000);
}

TEST(IdMaps, UnprivilegedRunnerMapsOnlyItsOwnIds) {
    auto plan = planIdMaps(false, 4242, 4343);
    EXPECT_EQ(plan.uid_map, "1000 4242 1\n");
    EXPECT_EQ(plan.gid_map, "1000 4343 1\n");
    EXPECT_TRUE(plan.deny_setgroups);
    EXPECT_FALSE(plan.setup_as_root);
    EXPECT_EQ(plan.step_host_uid, 4242u);
}

}  // namespace
}  // namespace nixjail::executor::ns
