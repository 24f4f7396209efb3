#include "runner/base/detached_tmpfs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "runner/base/error.h"
#include "tests/integration/require.h"

namespace nixjail::base {
namespace {

std::string mountTable() {
    std::ifstream in("/proc/self/mountinfo");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(DetachedTmpfs, FilesLiveBehindItsFdAndNoMountTableShowsIt) {
    NIXJAIL_REQUIRE(::geteuid() == 0, "needs root (CAP_SYS_ADMIN) to make a tmpfs");
    const std::string before = mountTable();
    {
        DetachedTmpfs tmpfs({.size_bytes = 1 << 20, .uid = 1234, .gid = 2345, .mode = 0750, .what = "a test"});
        EXPECT_EQ(mountTable(), before);  // mounted nowhere
        struct stat st {};
        ASSERT_EQ(::fstat(tmpfs.fd(), &st), 0);
        EXPECT_TRUE(S_ISDIR(st.st_mode));
        EXPECT_EQ(st.st_mode & 07777, 0750u);
        EXPECT_EQ(st.st_uid, 1234u);
        EXPECT_EQ(st.st_gid, 2345u);
        struct statvfs vfs {};
        ASSERT_EQ(::fstatvfs(tmpfs.fd(), &vfs), 0);
        EXPECT_TRUE(vfs.f_flag & ST_NOSUID);
        EXPECT_TRUE(vfs.f_flag & ST_NODEV);
        EXPECT_TRUE(vfs.f_flag & ST_NOEXEC);

        UniqueFd f(::openat(tmpfs.fd(), "file", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
        ASSERT_TRUE(f);
        ASSERT_EQ(::write(f.get(), "hello", 5), 5);
        f.reset(::openat(tmpfs.fd(), "file", O_RDONLY | O_CLOEXEC));
        char buf[8] = {};
        ASSERT_EQ(::read(f.get(), buf, sizeof buf), 5);
        EXPECT_STREQ(buf, "hello");
    }
    EXPECT_EQ(mountTable(), before);
}

TEST(DetachedTmpfs, ItsSizeIsALimit) {
    NIXJAIL_REQUIRE(::geteuid() == 0, "needs root (CAP_SYS_ADMIN) to make a tmpfs");
    DetachedTmpfs tmpfs({.size_bytes = 64 << 10, .what = "a test"});
    UniqueFd f(::openat(tmpfs.fd(), "big", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    ASSERT_TRUE(f);
    const std::string chunk(4096, 'x');
    ssize_t n = 0;
    int written = 0;
    while ((n = ::write(f.get(), chunk.data(), chunk.size())) > 0) written += static_cast<int>(n);
    EXPECT_EQ(n, -1);
    EXPECT_EQ(errno, ENOSPC);
    EXPECT_LE(written, 64 << 10);
}

TEST(DetachedTmpfs, WithoutCapSysAdminSaysWhatFailed) {
    if (::geteuid() == 0) GTEST_SKIP() << "runs as an unprivileged user only";
    try {
        DetachedTmpfs tmpfs({.what = "a test"});
        FAIL() << "made a tmpfs without CAP_SYS_ADMIN";
    } catch (const SysError& e) {
        EXPECT_NE(std::string(e.what()).find("tmpfs for a test"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace nixjail::base
