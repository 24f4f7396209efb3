// The mount planner: ordering, flags and rejected binds, against a golden file.
#include "executor/namespace/mounts.h"

#include <gtest/gtest.h>
#include <sys/mount.h>

#include "executor/namespace/golden.h"
#include "runner/base/error.h"

namespace nixjail::executor::ns {
namespace {

MountPlanInput sampleInput() {
    return {.root = "/var/lib/nixjail/roots/abc",
            .staging = "/tmp/nixjail-stage-job-1",
            .binds = {{.host = "/srv/ws/42", .jail = "/workspace", .writable = true},
                      {.host = "/nix/store/aaa-bash", .jail = "/nix/store/aaa-bash"},
                      {.host = "/srv/ws/42-cache/tool", .jail = "/workspace/.cache/tool"},
                      {.host = "/etc/resolv.conf.job",
                       .jail = "/etc/resolv.conf",
                       .is_directory = false}},
            .tmpfs_size_bytes = 256ull << 20};
}

TEST(MountPlan, MatchesGoldenFile) {
    testing::expectGolden("mount_plan.txt", renderMountPlan(planMounts(sampleInput())));
}

TEST(MountPlan, CallerRootIsOnlyTheOverlayLowerLayer) {
    auto plan = planMounts(sampleInput());
    ASSERT_EQ(plan.before_pivot.front().kind, MountOpKind::kTmpfs);
    EXPECT_EQ(plan.before_pivot.front().target, "/tmp/nixjail-stage-job-1");
    auto overlay = plan.before_pivot[4];
    EXPECT_EQ(overlay.kind, MountOpKind::kOverlay);
    EXPECT_EQ(overlay.data,
              "lowerdir=/var/lib/nixjail/roots/abc,upperdir=/tmp/nixjail-stage-job-1/upper,"
              "workdir=/tmp/nixjail-stage-job-1/work,userxattr");
    EXPECT_EQ(plan.new_root, "/tmp/nixjail-stage-job-1/root");
}

TEST(MountPlan, ParentBindComesBeforeNestedBind) {
    auto plan = planMounts(sampleInput());
    int parent = -1, nested = -1;
    for (size_t i = 0; i < plan.after_pivot.size(); ++i) {
        const auto& op = plan.after_pivot[i];
        if (op.kind != MountOpKind::kBind) continue;
        if (op.target == "/workspace") parent = static_cast<int>(i);
        if (op.target == "/workspace/.cache/tool") nested = static_cast<int>(i);
    }
    ASSERT_GE(parent, 0);
    EXPECT_GT(nested, parent);
}

TEST(MountPlan, ReadOnlyUnlessWritableAndAlwaysNosuidNodev) {
    auto plan = planMounts(sampleInput());
    for (const auto& op : plan.after_pivot) {
        if (op.kind != MountOpKind::kRemountBind) continue;
        if (op.target == "/workspace") {
            EXPECT_EQ(op.flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV));
        } else if (op.target == "/nix/store/aaa-bash" || op.target == "/") {
            EXPECT_EQ(op.flags, static_cast<unsigned long>(MS_RDONLY | MS_NOSUID | MS_NODEV));
        }
    }
}

TEST(MountPlan, OldRootIsDetachedBeforeTheRootGoesReadOnly) {
    auto plan = planMounts(sampleInput());
    const auto& post = plan.after_pivot;
    ASSERT_GE(post.size(), 4u);
    EXPECT_EQ(post[post.size() - 4].kind, MountOpKind::kDetach);
    EXPECT_EQ(post.back().target, "/");
    EXPECT_TRUE(post.back().flags & MS_RDONLY);
}

TEST(MountPlan, RejectsBindsOverJailOwnedPaths) {
    for (const char* jail : {"/", "/proc", "/proc/sys", "/dev/shm", kOldRoot}) {
        auto in = sampleInput();
        in.binds.push_back({.host = "/srv/x", .jail = jail});
        EXPECT_THROW(planMounts(in), base::Error) << jail;
    }
}

TEST(MountPlan, RejectsRelativePathsAndOverlayUnsafeRoots) {
    auto in = sampleInput();
    in.binds.push_back({.host = "relative", .jail = "/x"});
    EXPECT_THROW(planMounts(in), base::Error);
    in = sampleInput();
    in.root = "/roots/a,b";
    EXPECT_THROW(planMounts(in), base::Error);
}

}  // namespace
}  // namespace nixjail::executor::ns
