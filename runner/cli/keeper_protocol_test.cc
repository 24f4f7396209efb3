// The keeper's messages and registry, without a keeper: a socket pair, and a registry in a temp dir.
#include "runner/cli/keeper_protocol.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/cli/kept_registry.h"

namespace nixjail::runner::cli {
namespace {

namespace fs = std::filesystem;

TEST(KeeperProtocol, AMessageCarriesItsJsonAndThreeWorkingFds) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    base::UniqueFd a(sv[0]), b(sv[1]);
    auto p1 = base::Pipe::create(), p2 = base::Pipe::create(), p3 = base::Pipe::create();
    sendKeeperMessage(a.get(), {{"op", "shell"}, {"argv", {"cat", "x y"}}},
                      {p1.write.get(), p2.write.get(), p3.write.get()});
    KeeperMessage m = receiveKeeperMessage(b.get());
    EXPECT_EQ(m.body["op"], "shell");
    EXPECT_EQ(m.body["argv"][1], "x y");
    ASSERT_EQ(m.fds.size(), 3u);
    // The fds received are the pipes' write ends: what goes in comes out of the read ends.
    ASSERT_EQ(::write(m.fds[1].get(), "hi", 2), 2);
    char buf[4] = {};
    EXPECT_EQ(::read(p2.read.get(), buf, sizeof buf), 2);
    EXPECT_STREQ(buf, "hi");
}

TEST(KeeperProtocol, AConnectionClosedMidMessageOrBadJsonIsAnError) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    base::UniqueFd a(sv[0]), b(sv[1]);
    ASSERT_EQ(::write(a.get(), "{\"op\":", 6), 6);
    a.reset();
    EXPECT_THROW(receiveKeeperMessage(b.get()), base::Error);
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    base::UniqueFd c(sv[0]), d(sv[1]);
    ASSERT_EQ(::write(c.get(), "not json\n", 9), 9);
    EXPECT_THROW(receiveKeeperMessage(d.get()), base::Error);
}

TEST(KeeperProtocol, NobodyListeningIsNoConnectionAndATooLongPathSaysSo) {
    base::TempDir dir("nixjail-keeper-test-");
    EXPECT_FALSE(connectKeeper(dir.path() / "control.sock"));
    auto listener = listenKeeperSocket(dir.path() / "control.sock");
    EXPECT_TRUE(connectKeeper(dir.path() / "control.sock"));
    try {
        connectKeeper(dir.path() / std::string(200, 'x'));
        FAIL() << "no error for a path longer than a unix socket allows";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("longer than a unix socket allows"), std::string::npos) << e.what();
    }
}

TEST(KeptRegistryTest, EntriesAreListedOldestFirstFoundByIdAndForgotten) {
    base::TempDir dir("nixjail-kept-test-");
    KeptRegistry registry(dir.path() / "kept");
    EXPECT_TRUE(registry.list().empty());
    KeptEntry older{.job = "build", .name = "build", .result = "failure", .step = "2: Run make", .steps = 3,
                    .job_dir = dir.path() / "job-a", .keeper = 1, .created = 100};
    KeptEntry newer{.job = "test", .name = "test (1)", .result = "success", .job_dir = dir.path() / "job-b",
                    .keeper = 1, .created = 200};
    registry.create(newer);
    registry.create(older);
    EXPECT_TRUE(older.id.starts_with("build-")) << older.id;
    const auto all = registry.list();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].id, older.id);
    EXPECT_EQ(all[0].step, "2: Run make");
    EXPECT_EQ(all[0].steps, 3u);
    EXPECT_EQ(registry.find(newer.id).name, "test (1)");
    try {
        registry.find("nope");
        FAIL();
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find(older.id), std::string::npos) << "names the kept ones: " << e.what();
    }
    EXPECT_THROW(registry.find("../kept"), base::Error);
    registry.forget(older);
    ASSERT_EQ(registry.list().size(), 1u);
    EXPECT_EQ((fs::status(dir.path() / "kept").permissions() & fs::perms::all), fs::perms::owner_all);
}

TEST(KeptRegistryTest, AllocatedBytesCountsWhatIsWritten) {
    base::TempDir dir("nixjail-kept-test-");
    const auto empty = allocatedBytes(dir.path());
    base::writeFile(dir.path() / "a", std::string(1 << 20, 'x'));
    EXPECT_GE(allocatedBytes(dir.path()) - empty, std::uint64_t{1} << 20);
    EXPECT_EQ(allocatedBytes(dir.path() / "missing"), 0u);
}

}  // namespace
}  // namespace nixjail::runner::cli
