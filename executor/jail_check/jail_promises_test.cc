// Judging the jail's promises from made-up facts: each promise passes on a good jail and fails,
// saying what was seen, on a jail that broke it.
#include "executor/jail_check/jail_promises.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace nixjail::executor {
namespace {

const char* kGoodStatus =
    "Name:\tnixjail-jail-check\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n"
    "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n"
    "CapBnd:\t0000000000000000\nCapAmb:\t0000000000000000\n";
const char* kLoopbackDev =
    "Inter-|   Receive                            |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes\n"
    "    lo:       0       0    0    0    0     0          0         0        0\n";
const char* kRouteHeader = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n";
const char* kLoopbackV6 =
    "00000000000000000000000000000001 80 00000000000000000000000000000000 00 "
    "00000000000000000000000000000000 00000000 00000001 00000000 80200001       lo\n";

JailFacts goodFacts() {
    return {.proc_status = kGoodStatus,
            .net_dev = kLoopbackDev,
            .net_route = kRouteHeader,
            .ipv6_route = kLoopbackV6,
            .store_create_errno = EROFS};
}

const PromiseCheck& named(const std::vector<PromiseCheck>& checks, const std::string& name) {
    for (const auto& c : checks) {
        if (c.name == name) return c;
    }
    throw std::runtime_error("no check " + name);
}

TEST(JailPromises, AGoodJailKeepsEveryPromise) {
    auto checks = judgeJailFacts(goodFacts());
    ASSERT_EQ(checks.size(), 5u);
    for (const auto& c : checks) EXPECT_TRUE(c.passed) << c.name << ": " << c.detail;
    EXPECT_EQ(named(checks, "network").detail, "loopback only");
    EXPECT_EQ(named(checks, "seccomp").detail, "filter mode");
}

TEST(JailPromises, AnyCapabilityFails) {
    auto f = goodFacts();
    f.proc_status.replace(f.proc_status.find("CapEff:\t0000000000000000"), 24, "CapEff:\t0000000000200000");
    auto c = named(judgeJailFacts(f), "capabilities");
    EXPECT_FALSE(c.passed);
    EXPECT_EQ(c.detail, "the step holds CapEff=0000000000200000");
    f = goodFacts();
    f.proc_status.replace(f.proc_status.find("CapAmb:\t0000000000000000"), 24, "CapAmb:\t0000000000000400");
    EXPECT_FALSE(named(judgeJailFacts(f), "capabilities").passed);
}

TEST(JailPromises, NoNewPrivsUnsetFails) {
    auto f = goodFacts();
    f.proc_status.replace(f.proc_status.find("NoNewPrivs:\t1"), 13, "NoNewPrivs:\t0");
    auto c = named(judgeJailFacts(f), "no_new_privs");
    EXPECT_FALSE(c.passed);
    EXPECT_NE(c.detail.find("not set"), std::string::npos);
}

TEST(JailPromises, SeccompOtherThanFilterModeFails) {
    for (const char* mode : {"0", "1"}) {
        auto f = goodFacts();
        f.proc_status.replace(f.proc_status.find("Seccomp:\t2"), 10, std::string("Seccomp:\t") + mode);
        auto c = named(judgeJailFacts(f), "seccomp");
        EXPECT_FALSE(c.passed) << mode;
        EXPECT_EQ(c.detail, std::string("mode ") + mode + ", not filter mode (2): no system call is refused");
    }
    auto f = goodFacts();
    f.proc_status = "CapInh:\t0\n";
    EXPECT_FALSE(named(judgeJailFacts(f), "seccomp").passed);
}

TEST(JailPromises, AnInterfaceOrRouteBeyondLoopbackFails) {
    auto f = goodFacts();
    f.net_dev += "  eth0: 1 2 0 0 0 0 0 0 3 4 0 0 0 0 0 0\n";
    f.net_route += "eth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\n";
    f.ipv6_route +=
        "fe800000000000000000000000000000 40 00000000000000000000000000000000 00 "
        "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n";
    auto c = named(judgeJailFacts(f), "network");
    EXPECT_FALSE(c.passed);
    EXPECT_EQ(c.detail, "not only loopback: interface eth0; IPv4 route via eth0; IPv6 route via eth0");
}

TEST(JailPromises, AnIPv6RouteAloneFails) {
    auto f = goodFacts();
    f.ipv6_route +=
        "20010db8000000000000000000000000 20 00000000000000000000000000000000 00 "
        "00000000000000000000000000000000 00000100 00000001 00000000 00000001     tun0\n";
    EXPECT_FALSE(named(judgeJailFacts(f), "network").passed);
}

TEST(JailPromises, NoInterfaceAtAllFailsSinceProcIsNotTheJails) {
    auto f = goodFacts();
    f.net_dev = "";
    auto c = named(judgeJailFacts(f), "network");
    EXPECT_FALSE(c.passed);
    EXPECT_NE(c.detail.find("no network interface"), std::string::npos);
}

TEST(JailPromises, AWritableStoreFails) {
    auto f = goodFacts();
    f.store_create_errno = 0;
    auto c = named(judgeJailFacts(f), "store");
    EXPECT_FALSE(c.passed);
    EXPECT_EQ(c.detail, "the step could create a file in /nix/store");
    f.store_create_errno = EACCES;
    EXPECT_TRUE(named(judgeJailFacts(f), "store").passed);
    f.store_create_errno = ENOENT;
    EXPECT_TRUE(named(judgeJailFacts(f), "store").passed);
    f.store_create_errno = EIO;
    EXPECT_FALSE(named(judgeJailFacts(f), "store").passed);
}

TEST(JailPromises, LimitsMustBeInPlaceAndNoLooserThanAsked) {
    const std::uint64_t mem = 4ull << 30;
    auto ok = judgeLimits({.memory_max_bytes = mem, .pids_max = 4096}, mem, 4096);
    EXPECT_TRUE(ok.passed);
    EXPECT_EQ(ok.detail, "memory 4 GiB, processes 4096");
    EXPECT_TRUE(judgeLimits({.memory_max_bytes = mem - 4096, .pids_max = 100}, mem, 4096).passed);

    auto none = judgeLimits({}, mem, 4096);
    EXPECT_FALSE(none.passed);
    EXPECT_EQ(none.detail, "no memory limit (asked for 4 GiB); no process limit (asked for 4096)");
    auto loose = judgeLimits({.memory_max_bytes = 8ull << 30, .pids_max = 4096}, mem, 4096);
    EXPECT_FALSE(loose.passed);
    EXPECT_EQ(loose.detail, "memory limit 8 GiB, asked for 4 GiB");
    EXPECT_FALSE(judgeLimits({.memory_max_bytes = mem, .pids_max = 5000}, mem, 4096).passed);
}

TEST(JailPromises, CgroupLimitTextIsANumberOrNoLimit) {
    EXPECT_EQ(parseCgroupLimit("4294967296\n"), 4294967296u);
    EXPECT_EQ(parseCgroupLimit(" 256 "), 256u);
    EXPECT_FALSE(parseCgroupLimit("max\n"));
    EXPECT_FALSE(parseCgroupLimit("9223372036854771712"));  // v1's unlimited
    EXPECT_FALSE(parseCgroupLimit(""));
    EXPECT_FALSE(parseCgroupLimit("12abc"));
    EXPECT_FALSE(parseCgroupLimit("99999999999999999999999"));
}

TEST(JailPromises, ChecksSurviveTheirTextForm) {
    auto f = goodFacts();
    f.store_create_errno = 0;
    auto checks = judgeJailFacts(f);
    auto text = formatChecks(checks);
    auto back = parseChecks("noise before\n" + text + "trailing: junk\n");
    ASSERT_EQ(back.size(), checks.size());
    for (size_t i = 0; i < checks.size(); ++i) {
        EXPECT_EQ(back[i].name, checks[i].name);
        EXPECT_EQ(back[i].passed, checks[i].passed);
        EXPECT_EQ(back[i].detail, checks[i].detail);
    }
}

}  // namespace
}  // namespace nixjail::executor
