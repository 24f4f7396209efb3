// cloneWithPidfd against the real kernel: with a cgroup v2 directory the child starts in it
// (clone3 CLONE_INTO_CGROUP, no move afterwards); without one it starts where the caller is.
// Needs root and a mounted cgroup2 hierarchy (on a hybrid host, the controller-less "unified"
// one serves: CLONE_INTO_CGROUP needs no controller); skipped with the reason otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "executor/namespace/spawn.h"
#include "runner/base/file_io.h"
#include "runner/base/unique_fd.h"

namespace nixjail::executor::ns {
namespace {

namespace fs = std::filesystem;

// The cgroup2 mount point, or empty.
fs::path cgroup2Mount() {
    std::ifstream mounts("/proc/self/mounts");
    std::string dev, dir, type;
    while (mounts >> dev >> dir >> type) {
        if (type == "cgroup2") return dir;
        std::string rest;
        std::getline(mounts, rest);
    }
    return {};
}

// This process's cgroup in the v2 hierarchy ("0::/a/b" -> "a/b").
std::string ownV2Cgroup() {
    std::istringstream lines(base::readFile("/proc/self/cgroup"));
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind("0::/", 0) == 0) return line.substr(4);
    }
    return {};
}

// The child's v2 cgroup as the kernel reports it.
std::string v2CgroupOf(pid_t pid) {
    std::istringstream lines(base::readFile("/proc/" + std::to_string(pid) + "/cgroup"));
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind("0::", 0) == 0) return line.substr(3);
    }
    return {};
}

class CloneIntoCgroupTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string why;
        if (::geteuid() != 0) why = "needs root to make a cgroup";
        const fs::path mount = cgroup2Mount();
        if (why.empty() && mount.empty()) why = "no cgroup2 hierarchy is mounted";
        if (why.empty()) {
            dir_ = mount / ownV2Cgroup() / ("nixjail-clone-test-" + std::to_string(::getpid()));
            if (::mkdir(dir_.c_str(), 0755) != 0) {
                why = "cannot make '" + dir_.string() + "': " + std::strerror(errno);
                dir_.clear();
            }
        }
        if (!why.empty()) {
            if (const char* strict = std::getenv("NIXJAIL_TESTS_STRICT"); strict && std::string(strict) == "1")
                FAIL() << why;
            GTEST_SKIP() << why;
        }
    }
    void TearDown() override {
        if (!dir_.empty()) ::rmdir(dir_.c_str());
    }
    fs::path dir_;
};

// Clones a child that waits for a byte on `release`, then exits 7.
pid_t spawnWaiting(int cgroup_fd, int release, int* pidfd, bool* in_cgroup) {
    const long pid = cloneWithPidfd(0, pidfd, cgroup_fd, in_cgroup);
    if (pid == 0) {
        char b;
        while (::read(release, &b, 1) < 0 && errno == EINTR) {
        }
        ::_exit(7);
    }
    return static_cast<pid_t>(pid);
}

TEST_F(CloneIntoCgroupTest, TheChildStartsInTheGivenCgroup) {
    base::UniqueFd cg(::open(dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(cg) << std::strerror(errno);
    auto pipe = base::Pipe::create();
    int pidfd = -1;
    bool in_cgroup = false;
    const pid_t pid = spawnWaiting(cg.get(), pipe.read.get(), &pidfd, &in_cgroup);
    ASSERT_GT(pid, 0) << std::strerror(errno);
    base::UniqueFd owned(pidfd);
    EXPECT_TRUE(in_cgroup);
    EXPECT_GE(pidfd, 0);
    const std::string expected = "/" + (fs::path(ownV2Cgroup()) / dir_.filename()).lexically_normal().string();
    EXPECT_EQ(v2CgroupOf(pid), expected);
    EXPECT_EQ(::write(pipe.write.get(), "x", 1), 1);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7);
}

TEST_F(CloneIntoCgroupTest, WithoutACgroupTheChildStartsWhereTheCallerIs) {
    auto pipe = base::Pipe::create();
    int pidfd = -1;
    bool in_cgroup = true;
    const pid_t pid = spawnWaiting(-1, pipe.read.get(), &pidfd, &in_cgroup);
    ASSERT_GT(pid, 0) << std::strerror(errno);
    base::UniqueFd owned(pidfd);
    EXPECT_FALSE(in_cgroup);
    EXPECT_EQ(v2CgroupOf(pid), v2CgroupOf(::getpid()));
    EXPECT_EQ(::write(pipe.write.get(), "x", 1), 1);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7);
}

}  // namespace
}  // namespace nixjail::executor::ns
