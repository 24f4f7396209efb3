#include "runner/network/forge_pin.h"

#include <gtest/gtest.h>

#include "proxy/upstream_guard.h"

namespace nixjail::runner::network {
namespace {

using Pin = std::pair<std::string, std::string>;

TEST(ForgeHostPin, LocalhostAndAddressLiteralsArePinnedToTheirPort) {
    EXPECT_EQ(forgeHostPin("http://localhost:3000"), (Pin{"localhost", "127.0.0.1:3000"}));
    EXPECT_EQ(forgeHostPin("http://127.0.0.1:3000/"), (Pin{"127.0.0.1", "127.0.0.1:3000"}));
    EXPECT_EQ(forgeHostPin("https://10.0.0.5"), (Pin{"10.0.0.5", "10.0.0.5:443"}));
    EXPECT_EQ(forgeHostPin("http://[::1]:8080/x"), (Pin{"::1", "[::1]:8080"}));
    EXPECT_EQ(forgeHostPin("http://LocalHost"), (Pin{"localhost", "127.0.0.1:80"}));
    // Every pin is one the proxy accepts.
    EXPECT_NO_THROW(proxy::parseHostOverride(forgeHostPin("http://[::1]:8080")->second));
}

TEST(ForgeHostPin, NamedForgesAndNonsenseGetNoPin) {
    EXPECT_FALSE(forgeHostPin("https://codeberg.org"));
    EXPECT_FALSE(forgeHostPin("https://forge.example.org:3000/"));
    EXPECT_FALSE(forgeHostPin("ftp://127.0.0.1"));
    EXPECT_FALSE(forgeHostPin("127.0.0.1:3000"));
    EXPECT_FALSE(forgeHostPin("http://127.0.0.1:99999"));
    EXPECT_FALSE(forgeHostPin(""));
}

}  // namespace
}  // namespace nixjail::runner::network
