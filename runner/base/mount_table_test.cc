// The mount table and the kernel's filesystem list, as this process sees them.
#include "runner/base/mount_table.h"

#include <gtest/gtest.h>

namespace nixjail::base {
namespace {

TEST(MountTable, RootAndProcAreMountPointsAndTheirTypesAreKnown) {
    EXPECT_TRUE(isMountPoint("/"));
    EXPECT_TRUE(isMountPoint("/proc"));
    EXPECT_FALSE(isMountPoint("/proc/self"));
    EXPECT_TRUE(kernelHasFilesystem("proc"));  // "nodev\tproc"
    EXPECT_FALSE(kernelHasFilesystem("roc"));  // a whole name, not a suffix
    EXPECT_FALSE(kernelHasFilesystem("nixjail-no-such-filesystem"));
}

}  // namespace
}  // namespace nixjail::base
