#include "runner/services/job_dirs.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>

#include "runner/base/mount_table.h"

namespace nixjail::runner::services {
namespace {

namespace fs = std::filesystem;

spdlog::logger& quiet() {
    static spdlog::logger log("job-dirs-test", std::make_shared<spdlog::sinks::null_sink_mt>());
    return log;
}

// A daemon killed mid-job leaves the job's directory, with its disk-quota volume still mounted:
// the next start unmounts the volume and removes the directory. Another mount below a job
// directory (a bind of something else) keeps that directory.
TEST(JobDirs, SweepUnmountsALeftJobVolumeButNoOtherMount) {
    if (::geteuid() != 0) {
        const char* strict = std::getenv("NIXJAIL_TESTS_STRICT");
        if (strict && std::string(strict) == "1") FAIL() << "needs root to mount";
        GTEST_SKIP() << "needs root to mount (euid is not 0)";
    }
    const std::string uuid = "job-dirs-test-" + std::to_string(::getpid());
    const fs::path root = fs::temp_directory_path() / ("nixjail-daemon-" + uuid);
    const fs::path parent = fs::temp_directory_path();
    const fs::path crashed = root / "nixjail-job-crashed", other = root / "nixjail-job-other";
    fs::create_directories(crashed / "volume");
    fs::create_directories(other / "bound");
    ASSERT_EQ(::mount("tmpfs", (crashed / "volume").c_str(), "tmpfs", 0, "size=1m"), 0);
    // Its root: an overlay over a cached root, as on ext4 (cache::OverlayRoot).
    const fs::path cached = parent / ("nixjail-cached-root-" + uuid);
    fs::create_directories(cached / "etc");
    fs::create_directories(crashed / "root.layer/upper");
    fs::create_directories(crashed / "root.layer/work");
    fs::create_directories(crashed / "root");
    const std::string layers = "lowerdir=" + cached.string() + ",upperdir=" +
                               (crashed / "root.layer/upper").string() +
                               ",workdir=" + (crashed / "root.layer/work").string();
    ASSERT_EQ(::mount("overlay", (crashed / "root").c_str(), "overlay", 0, layers.c_str()), 0);
    std::ofstream(crashed / "root" / "etc" / "written-by-the-job") << "left";
    ASSERT_EQ(::mount("tmpfs", (other / "bound").c_str(), "tmpfs", 0, "size=1m"), 0);
    std::ofstream(crashed / "volume" / "workspace-file") << "left";
    {
        JobDirs dirs(parent, uuid, quiet());
        EXPECT_EQ(dirs.swept(), 1);
        EXPECT_FALSE(base::isMountPoint(crashed / "volume"));
        EXPECT_FALSE(base::isMountPoint(crashed / "root"));
        EXPECT_FALSE(fs::exists(crashed));
        EXPECT_TRUE(fs::exists(cached / "etc")) << "the cached root is not the job's to remove";
        EXPECT_FALSE(fs::exists(cached / "etc" / "written-by-the-job"));
        EXPECT_TRUE(base::isMountPoint(other / "bound")) << "not a job volume: left alone";
        EXPECT_TRUE(fs::exists(other));
    }
    ::umount2((other / "bound").c_str(), 0);
    fs::remove_all(root);
    fs::remove_all(cached);
}

}  // namespace
}  // namespace nixjail::runner::services
