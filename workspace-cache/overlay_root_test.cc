// A job's root as an overlay over the cached root: the job writes its own layer, the cached root
// is never written, and nothing (mount, layer, mount point) outlives the owner.
#include "workspace-cache/overlay_root.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>

#include <fstream>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/mount_table.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"

namespace nixjail::cache {
namespace {

namespace fs = std::filesystem;

class OverlayRootTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (const auto why = OverlayRoot::unavailableReason(); !why.empty()) {
            const char* strict = std::getenv("NIXJAIL_TESTS_STRICT");
            if (strict && std::string(strict) == "1" && ::geteuid() == 0) FAIL() << why;
            GTEST_SKIP() << why;
        }
        fs::create_directories(lower_ / "etc");
        fs::create_directories(lower_ / "nix/store/abc-bash/bin");
        base::writeFile(lower_ / "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
        base::writeFile(lower_ / "nix/store/abc-bash/bin/bash", "#!bash\n");
    }
    base::TempDir dir_{"nixjail-overlay-"};
    fs::path lower_ = dir_.path() / "cached-root";
    fs::path dst_ = dir_.path() / "job" / "root";
};

TEST_F(OverlayRootTest, TheJobWritesItsOwnLayerAndTheCachedRootStaysAsItWas) {
    fs::create_directories(dst_.parent_path());
    {
        OverlayRoot root(lower_, dst_);
        EXPECT_TRUE(base::isMountPoint(dst_));
        EXPECT_EQ(base::readFile(dst_ / "nix/store/abc-bash/bin/bash"), "#!bash\n");
        base::writeFile(dst_ / "etc/passwd", "changed\n");
        base::writeFile(dst_ / "etc/new", "new\n");
        fs::remove(dst_ / "nix/store/abc-bash/bin/bash");
        EXPECT_EQ(base::readFile(dst_ / "etc/passwd"), "changed\n");
        EXPECT_FALSE(fs::exists(dst_ / "nix/store/abc-bash/bin/bash"));
        // The cached root: untouched.
        EXPECT_EQ(base::readFile(lower_ / "etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
        EXPECT_FALSE(fs::exists(lower_ / "etc/new"));
        EXPECT_TRUE(fs::exists(lower_ / "nix/store/abc-bash/bin/bash"));
        EXPECT_TRUE(fs::exists(root.layerDir() / "upper/etc/new"));
    }
    EXPECT_FALSE(base::isMountPoint(dst_));
    EXPECT_FALSE(fs::exists(dst_));
    EXPECT_FALSE(fs::exists(dst_.string() + ".layer"));
    EXPECT_TRUE(fs::exists(lower_ / "nix/store/abc-bash/bin/bash"));
}

// The job's layer is thrown away, so the overlay is volatile where the kernel has that (5.10):
// unmounting it must not sync the host's filesystem under the layer.
TEST_F(OverlayRootTest, TheLayerIsVolatileWhereTheKernelHasIt) {
    fs::create_directories(dst_.parent_path());
    OverlayRoot root(lower_, dst_);
    std::string options;
    std::ifstream mounts("/proc/self/mounts");
    for (std::string dev, dir, type, opts, rest; mounts >> dev >> dir >> type >> opts && std::getline(mounts, rest);) {
        if (dir == dst_.string()) options = opts;
    }
    ASSERT_FALSE(options.empty()) << "no mount at " << dst_;
    struct utsname u {};
    ASSERT_EQ(::uname(&u), 0);
    int major = 0, minor = 0;
    std::sscanf(u.release, "%d.%d", &major, &minor);
    if (major > 5 || (major == 5 && minor >= 10)) {
        EXPECT_NE(options.find("volatile"), std::string::npos) << options;
    } else {
        EXPECT_EQ(options.find("volatile"), std::string::npos) << options;
    }
}

TEST_F(OverlayRootTest, ABusyRootIsDetachedAndStillNothingIsLeft) {
    fs::create_directories(dst_.parent_path());
    base::UniqueFd held;
    {
        OverlayRoot root(lower_, dst_);
        held = base::UniqueFd(::open((dst_ / "etc/passwd").c_str(), O_RDONLY | O_CLOEXEC));
        ASSERT_TRUE(held);
    }
    EXPECT_FALSE(base::isMountPoint(dst_));
    EXPECT_FALSE(fs::exists(dst_));
    char buf[4] = {};
    EXPECT_EQ(::read(held.get(), buf, 4), 4) << "what a process still holds stays readable";
}

TEST_F(OverlayRootTest, AnOverlayIsNoLowerLayerForAnother) {
    EXPECT_EQ(OverlayRoot::unsuitableLower(lower_), "");
    fs::create_directories(dst_.parent_path());
    OverlayRoot root(lower_, dst_);
    // With the jail's own overlay on top, that would be three.
    EXPECT_NE(OverlayRoot::unsuitableLower(dst_).find("on an overlay already"), std::string::npos);
}

TEST_F(OverlayRootTest, PathsMountOptionsCannotCarryAreRefusedBeforeAnythingIsMade) {
    const fs::path odd = dir_.path() / "job,lowerdir=/" / "root";
    fs::create_directories(odd.parent_path());
    try {
        OverlayRoot root(lower_, odd);
        FAIL() << "mounted at a path with a comma";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("overlay mount options cannot carry"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(odd));
    EXPECT_THROW(OverlayRoot(lower_, dir_.path() / "missing-parent" / "root"), std::exception);
    EXPECT_FALSE(base::isMountPoint(dir_.path() / "missing-parent" / "root"));
}

}  // namespace
}  // namespace nixjail::cache
