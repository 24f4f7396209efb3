#include "runner/network/forge_credentials.h"

#include <gtest/gtest.h>

#include "proxy/credential_injector.h"

namespace nixjail::runner::network {
namespace {

const std::string kToken = "0123456789abcdef0123456789abcdef01234567";

TEST(ForgeCredentials, EachTokenGetsAFreshDummyOfItsShapeValidOnlyOnTheForge) {
    auto creds =
        forgeCredentials({kToken, "runtime-jwt.abc.def"}, {"forge.test"}, "https://forge.test");
    ASSERT_EQ(creds.size(), 2u);
    const auto& token = creds[0];
    EXPECT_EQ(token.value.reveal(), kToken);
    EXPECT_EQ(token.hosts, std::vector<std::string>{"forge.test"});
    EXPECT_EQ(token.dummy.size(), kToken.size());
    EXPECT_EQ(token.dummy.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(token.dummy, kToken);
    EXPECT_FALSE(token.plain_http);
    EXPECT_NO_THROW(proxy::validateCredential(token));
    const auto& runtime = creds[1];
    EXPECT_EQ(runtime.value.reveal(), "runtime-jwt.abc.def");
    EXPECT_TRUE(runtime.dummy.starts_with("nixjail-dummy-")) << runtime.dummy;
    EXPECT_EQ(proxy::dummyHeaderLine(runtime), "Authorization: Bearer " + runtime.dummy);
    EXPECT_NO_THROW(proxy::validateCredential(runtime));
    // Fresh per job.
    EXPECT_NE(forgeCredentials({kToken, ""}, {"forge.test"}, "https://forge.test")[0].dummy,
              token.dummy);
}

TEST(ForgeCredentials, AJwtKeepsItsClaimsAndGetsARandomSignature) {
    // {"alg":"HS256","typ":"JWT"} . {"scp":"Actions.Results:7:9"} . a signature
    const std::string claims =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzY3AiOiJBY3Rpb25zLlJlc3VsdHM6Nzo5In0.";
    const std::string jwt = claims + "Xz8pQk2mV4tR0aBcD_efGh-iJkLmNoPqRsTuVwXyZ01";
    auto creds = forgeCredentials({kToken, jwt}, {"forge.test"}, "https://forge.test");
    ASSERT_EQ(creds.size(), 2u);
    const std::string& dummy = creds[1].dummy;
    EXPECT_TRUE(dummy.starts_with(claims)) << dummy;
    EXPECT_EQ(dummy.size(), jwt.size());
    EXPECT_NE(dummy, jwt);
    EXPECT_EQ(
        dummy.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                                claims.size()),
        std::string::npos)
        << dummy;
    EXPECT_NO_THROW(proxy::validateCredential(creds[1]));
    EXPECT_EQ(realValueFor(dummy, "https://forge.test/twirp/x", creds), jwt);
    // Three dotted segments whose header is not a JSON object naming "alg" are no JWT.
    for (const std::string& notJwt :
         {std::string("abc.def.ghijklmnopqrstuvwxyz0123"),
          std::string("eyJ0eXAiOiJKV1QifQ.e30.ghijklmnopqrstuvwxyz0123"), claims + "short"}) {
        auto c = forgeCredentials({"", notJwt}, {"forge.test"}, "https://forge.test");
        ASSERT_EQ(c.size(), 1u);
        EXPECT_TRUE(c[0].dummy.starts_with("nixjail-dummy-")) << notJwt << " -> " << c[0].dummy;
    }
}

TEST(ForgeCredentials, NothingWithoutAForgeOrATokenAndPlainHttpOnlyForAnHttpForge) {
    EXPECT_TRUE(forgeCredentials({kToken, ""}, {}, "https://forge.test").empty());
    EXPECT_TRUE(forgeCredentials({"", ""}, {"forge.test"}, "https://forge.test").empty());
    auto plain = forgeCredentials({kToken, ""}, {"forge.test"}, "http://forge.test:3000");
    ASSERT_EQ(plain.size(), 1u);
    EXPECT_TRUE(plain[0].plain_http);
}

TEST(ForgeCredentials, RealValueOnlyForTheDummyOnItsHosts) {
    auto creds = forgeCredentials({kToken, ""}, {"forge.test"}, "https://forge.test");
    const std::string dummy = creds[0].dummy;
    EXPECT_EQ(realValueFor(dummy, "https://forge.test/acme/app", creds), kToken);
    EXPECT_EQ(realValueFor(dummy, "https://x-access-token@forge.test:3000/acme/app", creds),
              kToken);
    EXPECT_EQ(realValueFor(dummy, "https://evil.test/acme/app", creds), dummy);
    EXPECT_EQ(realValueFor(dummy, "https://forge.test.evil.test/acme/app", creds), dummy);
    EXPECT_EQ(realValueFor(dummy, "http://forge.test/acme/app", creds), dummy)
        << "never in clear text unless the forge itself is plain http";
    EXPECT_EQ(realValueFor("a-user-pat", "https://forge.test/acme/app", creds), "a-user-pat");
    auto plain = forgeCredentials({kToken, ""}, {"forge.test"}, "http://forge.test");
    EXPECT_EQ(realValueFor(plain[0].dummy, "http://forge.test/acme/app", plain), kToken);
}

TEST(ForgeCredentials, TheApiTokenAlsoWorksOnTheRunnersServicesWithTheSameDummy) {
    auto creds = forgeCredentials({kToken, "runtime-jwt.abc.def"}, {"forge.test"},
                                  "https://forge.test", {"actions-cache.nixjail.internal"});
    ASSERT_EQ(creds.size(), 3u);
    EXPECT_EQ(creds[2].value.reveal(), "runtime-jwt.abc.def");
    EXPECT_EQ(creds[2].dummy, creds[1].dummy);
    EXPECT_EQ(creds[2].hosts, std::vector<std::string>{"actions-cache.nixjail.internal"});
    EXPECT_TRUE(creds[2].plain_http);
    EXPECT_FALSE(creds[1].plain_http);
    // Without a runtime token, the task token is the API token.
    auto old = forgeCredentials({kToken, ""}, {"forge.test"}, "https://forge.test",
                                {"actions-cache.nixjail.internal"});
    ASSERT_EQ(old.size(), 2u);
    EXPECT_EQ(old[1].value.reveal(), kToken);
    EXPECT_EQ(old[1].dummy, old[0].dummy);
}

TEST(ForgeCredentials, RandomHexHasTheLengthAsked) {
    EXPECT_EQ(randomHex(7).size(), 7u);
    EXPECT_EQ(randomHex(40).size(), 40u);
    EXPECT_NE(randomHex(32), randomHex(32));
}

}  // namespace
}  // namespace nixjail::runner::network
