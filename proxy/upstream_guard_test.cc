#include "proxy/upstream_guard.h"

#include <gtest/gtest.h>

#include "runner/base/error.h"

namespace nixjail::proxy {
namespace {

asio::ip::address ip(const char* text) { return asio::ip::make_address(text); }

TEST(UpstreamGuard, RefusesTheRunnersOwnHostAndLinkLocal) {
    UpstreamGuard guard({ip("10.1.2.3"), ip("fd00::5")});
    EXPECT_EQ(guard.refusal(ip("127.0.0.1")), "a loopback address");
    EXPECT_EQ(guard.refusal(ip("127.45.0.9")), "a loopback address");
    EXPECT_EQ(guard.refusal(ip("::1")), "a loopback address");
    EXPECT_EQ(guard.refusal(ip("::ffff:127.0.0.1")), "a loopback address");
    EXPECT_EQ(guard.refusal(ip("0.0.0.0")), "the unspecified address");
    EXPECT_EQ(guard.refusal(ip("0.1.2.3")), "an address of 'this network' (0.0.0.0/8)");
    EXPECT_EQ(guard.refusal(ip("169.254.169.254")), "a link-local address (such as a cloud metadata service)");
    EXPECT_EQ(guard.refusal(ip("fe80::1")), "a link-local address");
    EXPECT_EQ(guard.refusal(ip("10.1.2.3")), "an address of the runner's own host");
    EXPECT_EQ(guard.refusal(ip("fd00::5")), "an address of the runner's own host");
    EXPECT_EQ(guard.refusal(ip("10.1.2.4")), "");  // a neighbour (e.g. the forge) is fine
    EXPECT_EQ(guard.refusal(ip("93.184.216.34")), "");
}

TEST(UpstreamGuard, KnowsThisHostsInterfaces) {
    const auto guard = UpstreamGuard::forThisHost();
    EXPECT_EQ(guard.refusal(ip("127.0.0.1")), "a loopback address");
}

TEST(HostOverride, AddressWithOptionalPort) {
    EXPECT_EQ(parseHostOverride("127.0.0.1").address, ip("127.0.0.1"));
    EXPECT_FALSE(parseHostOverride("127.0.0.1").port);
    EXPECT_EQ(parseHostOverride("127.0.0.1:8080").port, 8080);
    EXPECT_EQ(parseHostOverride("::1").address, ip("::1"));
    EXPECT_FALSE(parseHostOverride("::1").port);
    const auto v6 = parseHostOverride("[::1]:443");
    EXPECT_EQ(v6.address, ip("::1"));
    EXPECT_EQ(v6.port, 443);
    EXPECT_THROW(parseHostOverride("git.test"), base::Error);
    EXPECT_THROW(parseHostOverride("127.0.0.1:0"), base::Error);
    EXPECT_THROW(parseHostOverride("127.0.0.1:99999"), base::Error);
    EXPECT_THROW(parseHostOverride("127.0.0.1:http"), base::Error);
}

}  // namespace
}  // namespace nixjail::proxy
