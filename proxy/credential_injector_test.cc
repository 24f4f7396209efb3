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
    EXPECT_EQ(injectCredentials(h, creds, "git.test", true), std::vector<std::string>{"forge"});
    EXPECT_EQ(h[0].value, "token REAL-secret-123");
    http::Headers g{{"X-Token", "DUMMY-token-abc"}};
    EXPECT_FALSE(injectCredentials(g, creds, "api.forge.test", true).empty());
    EXPECT_EQ(g[0].value, "REAL-secret-123");
}

TEST(CredentialInjection, QueryGetsTheRealValueOnItsHostsOnlyAndThePathIsLeftAlone) {
    auto creds = forgeToken();
    creds[0].value = base::Secret("REAL/secret+1");
    creds[0].dummy = "DUMY/secret+9";
    std::string target = "/DUMY/secret+9/x?key=DUMY%2Fsecret%2B9&raw=DUMY/secret+9";
    EXPECT_EQ(injectIntoQuery(target, creds, "git.test", true), std::vector<std::string>{"forge"});
    EXPECT_EQ(target, "/DUMY/secret+9/x?key=REAL%2Fsecret%2B1&raw=REAL%2Fsecret%2B1");
    std::string other = "/x?key=DUMY%2Fsecret%2B9";
    EXPECT_TRUE(injectIntoQuery(other, creds, "evil.test", true).empty());
    EXPECT_EQ(other, "/x?key=DUMY%2Fsecret%2B9");
    EXPECT_TRUE(injectIntoQuery(other, creds, "git.test", false).empty()) << "never in clear text";
    std::string none = "/path/only";
    EXPECT_TRUE(injectIntoQuery(none, creds, "git.test", true).empty());
}

TEST(CredentialInjection, ReplacesInsideBasicAuth) {
    auto creds = forgeToken();
    http::Headers h{{"Authorization", "Basic " + base64Encode("user:DUMMY-token-abc")}};
    EXPECT_FALSE(injectCredentials(h, creds, "git.test", true).empty());
    EXPECT_EQ(h[0].value, "Basic " + base64Encode("user:REAL-secret-123"));
}

TEST(CredentialInjection, DummyStaysOnOtherHostsAndInClearText) {
    auto creds = forgeToken();
    http::Headers other{{"Authorization", "token DUMMY-token-abc"}};
    EXPECT_TRUE(injectCredentials(other, creds, "evil.test", true).empty());
    EXPECT_EQ(other[0].value, "token DUMMY-token-abc");
    http::Headers plain{{"Authorization", "token DUMMY-token-abc"}};
    EXPECT_TRUE(injectCredentials(plain, creds, "git.test", false).empty());
    EXPECT_EQ(plain[0].value, "token DUMMY-token-abc");
}

TEST(CredentialInjection, APlainHttpCredentialIsInjectedInClearTextOnlyOnItsHosts) {
    auto creds = forgeToken();
    creds[0].plain_http = true;
    http::Headers h{{"Authorization", "token DUMMY-token-abc"}};
    EXPECT_FALSE(injectCredentials(h, creds, "git.test", false).empty());
    EXPECT_EQ(h[0].value, "token REAL-secret-123");
    http::Headers other{{"Authorization", "token DUMMY-token-abc"}};
    EXPECT_TRUE(injectCredentials(other, creds, "evil.test", false).empty());
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

std::string rewriteInTwoPieces(StreamRewriter s, std::string_view body, std::size_t split) {
    std::string out = s.feed(body.substr(0, split));
    out += s.feed(body.substr(split));
    return out + s.finish();
}

TEST(StreamRewriter, ResponseBodiesGetTheDummyBackWhereItIsAsLongElseStars) {
    auto creds = forgeToken();
    std::string body = "a REAL-secret-123 b REAL-secret-123\r\n";
    for (std::size_t split = 0; split <= body.size(); ++split) {
        EXPECT_EQ(rewriteInTwoPieces(responseBodyScrubber(creds), body, split),
                  "a DUMMY-token-abc b DUMMY-token-abc\r\n")
            << split;
    }
    creds[0].dummy = "DUMMY-longer-than-the-value";
    for (std::size_t split = 0; split <= body.size(); ++split) {
        EXPECT_EQ(rewriteInTwoPieces(responseBodyScrubber(creds), body, split),
                  "a *************** b ***************\r\n")
            << split;
    }
}

TEST(StreamRewriter, HoldsBackOnlyPossibleStarts) {
    StreamRewriter s = responseBodyScrubber(forgeToken());
    EXPECT_EQ(s.feed("data ending in CRLF\r\n"), "data ending in CRLF\r\n");
    EXPECT_EQ(s.feed("tail RE"), "tail ");
    EXPECT_EQ(s.feed("ST"), "REST");
    EXPECT_EQ(s.feed("x REAL-sec"), "x ");
    EXPECT_EQ(s.finish(), "REAL-sec");
    EXPECT_TRUE(s.swapped().empty());
}

TEST(StreamRewriter, PassesUnchangedExactlyWhenFeedWouldReturnTheDataItself) {
    StreamRewriter s = responseBodyScrubber(forgeToken());
    for (std::string_view data : {"plain data\r\n", "a REAL-secret-123 b", "ends in RE", "R", "",
                                  "REAL-secret-12", "xREAL-secret-123"}) {
        StreamRewriter probe = responseBodyScrubber(forgeToken());
        bool unchanged = probe.passesUnchanged(data);
        std::string fed = probe.feed(data);
        EXPECT_EQ(unchanged, fed == data && probe.finish().empty()) << data;
    }
    s.feed("tail RE");  // holds "RE" back: the next piece must go through feed()
    EXPECT_FALSE(s.passesUnchanged("ST of it"));
}

std::vector<Credential> bodySecret() {
    auto creds = forgeToken();
    creds[0].value = base::Secret("REAL/secret+1");
    creds[0].dummy = "DUMY/secret+9";
    creds[0].in_bodies = true;
    return creds;
}

TEST(StreamRewriter, RequestBodiesGetTheRealValueOnlyWhereAllowedOnItsHostsOverTls) {
    const std::string body = R"({"key":"DUMY/secret+9"}&form=DUMY%2Fsecret%2B9)";
    for (std::size_t split = 0; split <= body.size(); ++split) {
        StreamRewriter s = requestBodyInjector(bodySecret(), {}, "git.test", true);
        EXPECT_EQ(rewriteInTwoPieces(s, body, split), R"({"key":"REAL/secret+1"}&form=REAL%2Fsecret%2B1)")
            << split;
    }
    StreamRewriter named = requestBodyInjector(bodySecret(), {}, "git.test", true);
    named.feed(body);
    EXPECT_EQ(named.swapped(), std::vector<std::string>{"forge"});

    EXPECT_FALSE(requestBodyInjector(bodySecret(), {}, "evil.test", true).active()) << "not its host";
    EXPECT_FALSE(requestBodyInjector(bodySecret(), {}, "git.test", false).active()) << "clear text";
    EXPECT_FALSE(requestBodyInjector(forgeToken(), {}, "git.test", true).active())
        << "bodies only where the admin allows";
    EXPECT_FALSE(requestBodyInjector(bodySecret(), {{"Content-Encoding", "gzip"}}, "git.test", true).active())
        << "compressed bodies are not looked into";
    EXPECT_TRUE(requestBodyInjector(bodySecret(), {{"Content-Encoding", "identity"}}, "git.test", true).active());
}

TEST(CredentialInjection, ABodyCredentialNeedsADummyAsLongAsItsValue) {
    auto c = bodySecret()[0];
    EXPECT_NO_THROW(validateCredential(c));
    c.dummy = "DUMMY-of-another-length";
    EXPECT_THROW(validateCredential(c), base::Error);
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
