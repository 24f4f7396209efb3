#include "proxy/credential_injector.h"

#include <gtest/gtest.h>

namespace nixjail::proxy {
namespace {

std::vector<Credential> forgeToken() {
    Credential c;
    c.name = "forge";
    c.value = base::Secret("REAL-secret-123");
    c.hosts = {"git.test", "*.forge.test"};
    c.header_template = "Authorization: token {token}";
    c.dummy = "DUMMY-token-abc";
    return {c};
}

TEST(CredentialInjection, ReplacesDummyOnAllowedHostOverTls) {
    auto creds = forgeToken();
    http::Headers h{{"Authorization", "token DUMMY-token-abc"}};
    auto name = injectCredentials(h, creds, "git.test", true);
    ASSERT_TRUE(name);
    EXPECT_EQ(*name, "forge");
    EXPECT_EQ(h[0].value, "token REAL-secret-123");
    http::Headers g{{"X-Token", "DUMMY-token-abc"}};
    EXPECT_TRUE(injectCredentials(g, creds, "api.forge.test", true));
    EXPECT_EQ(g[0].value, "REAL-secret-123");
}

TEST(CredentialInjection, QueryGetsTheRealValueOnItsHostsOnlyAndThePathIsLeftAlone) {
    auto creds = forgeToken();
    creds[0].value = base::Secret("REAL/secret+1");
    creds[0].dummy = "DUMY/secret+9";
    std::string target = "/DUMY/secret+9/x?key=DUMY%2Fsecret%2B9&raw=DUMY/secret+9";
    auto name = injectIntoQuery(target, creds, "git.test", true);
    ASSERT_TRUE(name);
    EXPECT_EQ(*name, "forge");
    EXPECT_EQ(target, "/DUMY/secret+9/x?key=REAL%2Fsecret%2B1&raw=REAL%2Fsecret%2B1");
    std::string other = "/x?key=DUMY%2Fsecret%2B9";
    EXPECT_FALSE(injectIntoQuery(other, creds, "evil.test", true));
    EXPECT_EQ(other, "/x?key=DUMY%2Fsecret%2B9");
    EXPECT_FALSE(injectIntoQuery(other, creds, "git.test", false)) << "never in clear text";
    std::string none = "/path/only";
    EXPECT_FALSE(injectIntoQuery(none, creds, "git.test", true));
}

TEST(CredentialInjection, ReplacesInsideBasicAuth) {
    auto creds = forgeToken();
    http::Headers h{{"Authorization", "Basic " + base64Encode("user:DUMMY-token-abc")}};
    EXPECT_TRUE(injectCredentials(h, creds, "git.test", true));
    EXPECT_EQ(h[0].value, "Basic " + base64Encode("user:REAL-secret-123"));
}

TEST(CredentialInjection, DummyStaysOnOtherHostsAndInClearText) {
    auto creds = forgeToken();
    http::Headers other{{"Authorization", "token DUMMY-token-abc"}};
    EXPECT_FALSE(injectCredentials(other, creds, "evil.test", true));
    EXPECT_EQ(other[0].value, "token DUMMY-token-abc");
    http::Headers plain{{"Authorization", "token DUMMY-token-abc"}};
    EXPECT_FALSE(injectCredentials(plain, creds, "git.test", false));
    EXPECT_EQ(plain[0].value, "token DUMMY-token-abc");
}

TEST(CredentialInjection, APlainHttpCredentialIsInjectedInClearTextOnlyOnItsHosts) {
    auto creds = forgeToken();
    creds[0].plain_http = true;
    http::Headers h{{"Authorization", "token DUMMY-token-abc"}};
    EXPECT_TRUE(injectCredentials(h, creds, "git.test", false));
    EXPECT_EQ(h[0].value, "token REAL-secret-123");
    http::Headers other{{"Authorization", "token DUMMY-token-abc"}};
    EXPECT_FALSE(injectCredentials(other, creds, "evil.test", false));
    EXPECT_EQ(other[0].value, "token DUMMY-token-abc");
}

TEST(CredentialInjection, HostsAreExactNamesOrGlobs) {
    const auto c = forgeToken()[0];
    EXPECT_TRUE(credentialAllowsHost(c, "git.test"));
    EXPECT_TRUE(credentialAllowsHost(c, "api.forge.test"));
    EXPECT_FALSE(credentialAllowsHost(c, "git.test.evil"));
    EXPECT_FALSE(credentialAllowsHost(c, "forge.test"));
}

TEST(CredentialInjection, ScrubsRealValueFromResponseHeaders) {
    auto creds = forgeToken();
    http::Headers h{{"X-Echo", "got REAL-secret-123"}};
    scrubResponseHeaders(h, creds);
    EXPECT_EQ(h[0].value, "got DUMMY-token-abc");
}

TEST(CredentialInjection, ValidationRefusesUnsafeCredentials) {
    auto c = forgeToken()[0];
    c.dummy = "short";
    EXPECT_THROW(validateCredential(c), base::Error);
    c = forgeToken()[0];
    c.hosts.clear();
    EXPECT_THROW(validateCredential(c), base::Error);
    c = forgeToken()[0];
    c.value = base::Secret("xxDUMMY-token-abcxx");
    EXPECT_THROW(validateCredential(c), base::Error);
    EXPECT_NO_THROW(validateCredential(forgeToken()[0]));
}

TEST(StreamScrubber, MasksValuesSplitAcrossPieces) {
    auto creds = forgeToken();
    std::string body = "a REAL-secret-123 b REAL-secret-123\r\n";
    for (std::size_t split = 0; split <= body.size(); ++split) {
        StreamScrubber s(creds);
        std::string out = s.feed(std::string_view(body).substr(0, split));
        out += s.feed(std::string_view(body).substr(split));
        out += s.finish();
        EXPECT_EQ(out, "a *************** b ***************\r\n") << split;
    }
}

TEST(StreamScrubber, HoldsBackOnlyPossibleStarts) {
    StreamScrubber s(forgeToken());
    EXPECT_EQ(s.feed("data ending in CRLF\r\n"), "data ending in CRLF\r\n");
    EXPECT_EQ(s.feed("tail RE"), "tail ");
    EXPECT_EQ(s.feed("ST"), "REST");
    EXPECT_EQ(s.feed("x REAL-sec"), "x ");
    EXPECT_EQ(s.finish(), "REAL-sec");
}

TEST(CredentialInjection, DummyHeaderLineFollowsTheTemplate) {
    EXPECT_EQ(dummyHeaderLine(forgeToken()[0]), "Authorization: token DUMMY-token-abc");
}

TEST(Base64, RoundTrips) {
    for (std::string s : {"", "a", "ab", "abc", "abcd", "user:pass\xff"}) {
        auto d = base64Decode(base64Encode(s));
        ASSERT_TRUE(d);
        EXPECT_EQ(*d, s);
    }
    EXPECT_FALSE(base64Decode("ab=c"));
    EXPECT_FALSE(base64Decode("a!b"));
}

}  // namespace
}  // namespace nixjail::proxy
