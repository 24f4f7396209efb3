// SpareNetns: namespaces made ahead are new ones, never the runner's own or each other, and
// nothing stays open once the spares are gone; ThreadNetns: a thread that makes or enters a
// namespace comes back to its own. Needs root (CAP_SYS_ADMIN).
#include "runner/network/spare_netns.h"

#include "runner/base/error.h"
#include "runner/base/thread_netns.h"
#include "runner/network/anonymous_netns.h"
#include "tests/integration/require.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

namespace nixjail::runner::network {
namespace {

#define REQUIRE_ROOT() NIXJAIL_REQUIRE(::geteuid() == 0, "needs root to create network namespaces")

ino_t inodeOf(int fd) {
    struct stat st {};
    EXPECT_EQ(::fstat(fd, &st), 0);
    return st.st_ino;
}

// The calling thread's (not the process's: a switch moves one thread).
ino_t ownNamespace() {
    struct stat st {};
    EXPECT_EQ(::stat("/proc/thread-self/ns/net", &st), 0);
    return st.st_ino;
}

int openFds() {
    int n = 0;
    DIR* d = ::opendir("/proc/self/fd");
    while (::readdir(d)) ++n;
    ::closedir(d);
    return n;
}

TEST(SpareNetnsTest, EachTakeIsANewNamespaceOfItsOwn) {
    REQUIRE_ROOT();
    for (bool refill : {false, true}) {
        SpareNetns spares(refill);
        const base::UniqueFd first = spares.take().get();   // the one made ahead
        const base::UniqueFd second = spares.take().get();  // refilled, or made on demand
        ASSERT_TRUE(first.valid());
        ASSERT_TRUE(second.valid());
        EXPECT_NE(inodeOf(first.get()), ownNamespace()) << "refill " << refill;
        EXPECT_NE(inodeOf(second.get()), ownNamespace()) << "refill " << refill;
        EXPECT_NE(inodeOf(first.get()), inodeOf(second.get())) << "refill " << refill;
    }
}

TEST(SpareNetnsTest, UntakenAndRefilledSparesCloseWithTheirOwner) {
    REQUIRE_ROOT();
    const int before = openFds();
    { SpareNetns untaken(false); }  // destroyed while (or after) its namespace is made
    EXPECT_EQ(openFds(), before);
    {
        SpareNetns refilled(true);
        base::UniqueFd taken = refilled.take().get();  // starts making the next, left untaken
        EXPECT_TRUE(taken.valid());
    }
    EXPECT_EQ(openFds(), before);
}

TEST(ThreadNetnsTest, MakingANamespaceLeavesTheCallingThreadInItsOwn) {
    REQUIRE_ROOT();
    const ino_t home = ownNamespace();
    const base::UniqueFd made = createAnonymousNetns();
    EXPECT_EQ(ownNamespace(), home);
    EXPECT_NE(inodeOf(made.get()), home);
}

TEST(ThreadNetnsTest, AGuardMovesTheThreadAndBringsItBack) {
    REQUIRE_ROOT();
    const ino_t home = ownNamespace();
    const base::UniqueFd job = createAnonymousNetns();
    {
        const auto inside = base::ThreadNetns::enter(job.get(), "test");
        EXPECT_EQ(ownNamespace(), inodeOf(job.get()));
    }
    EXPECT_EQ(ownNamespace(), home);
    {
        auto moved = base::ThreadNetns::enterNew("test");
        EXPECT_NE(ownNamespace(), home);
        const auto owner = std::move(moved);  // the moved-from guard returns nothing
        EXPECT_NE(ownNamespace(), home);
    }
    EXPECT_EQ(ownNamespace(), home);
}

TEST(ThreadNetnsTest, AFailedSwitchThrowsAndLeavesTheThreadWhereItWas) {
    REQUIRE_ROOT();
    const ino_t home = ownNamespace();
    const base::UniqueFd notANamespace(::open("/proc/self/status", O_RDONLY | O_CLOEXEC));
    try {
        base::ThreadNetns::enter(notANamespace.get(), "entering a file");
        FAIL() << "setns into a plain file succeeded";
    } catch (const base::SysError& e) {
        EXPECT_NE(std::string(e.what()).find("entering a file (setns)"), std::string::npos) << e.what();
    }
    EXPECT_EQ(ownNamespace(), home);
}

}  // namespace
}  // namespace nixjail::runner::network
