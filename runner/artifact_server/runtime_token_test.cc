// makeRuntimeToken: a JWT whose `scp` claim carries the Actions.Results scope @actions/artifact
// 2.x reads its run and job ids from, with a random last part.
#include "runner/artifact_server/runtime_token.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace nixjail::runner::artifact_server {
namespace {

std::string base64UrlDecode(const std::string& in) {
    static const std::string alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        const auto v = alphabet.find(c);
        if (v == std::string::npos) throw std::runtime_error("not base64url: " + in);
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return out;
}

TEST(RuntimeToken, Base64UrlWithoutPadding) {
    EXPECT_EQ(base64Url(""), "");
    EXPECT_EQ(base64Url("f"), "Zg");
    EXPECT_EQ(base64Url("fo"), "Zm8");
    EXPECT_EQ(base64Url("foo"), "Zm9v");
    EXPECT_EQ(base64Url("\xfb\xff"), "-_8");
}

TEST(RuntimeToken, IsAJwtWithTheResultsScopeOfTheRun) {
    const std::string token = makeRuntimeToken("42");
    const auto dot1 = token.find('.'), dot2 = token.rfind('.');
    ASSERT_NE(dot1, std::string::npos);
    ASSERT_NE(dot1, dot2);
    const auto header = nlohmann::json::parse(base64UrlDecode(token.substr(0, dot1)));
    EXPECT_EQ(header.at("typ"), "JWT");
    const auto payload =
        nlohmann::json::parse(base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1)));
    const std::string scp = payload.at("scp");
    EXPECT_NE(scp.find("Actions.Results:42:exec"), std::string::npos) << scp;
    EXPECT_EQ(base64UrlDecode(token.substr(dot2 + 1)).size(), 32u);
    // Safe in an HTTP header as it is.
    EXPECT_EQ(token.find_first_not_of(
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."),
              std::string::npos);
}

TEST(RuntimeToken, EachTokenIsNew) { EXPECT_NE(makeRuntimeToken("1"), makeRuntimeToken("1")); }

}  // namespace
}  // namespace nixjail::runner::artifact_server
