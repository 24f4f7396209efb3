// Secret placeholders: their shape, which secrets become one, and the flag that binds them.
#include "runner/network/secret_placeholder.h"

#include <gtest/gtest.h>

#include <cctype>
#include <set>

#include "runner/base/error.h"

namespace nixjail::runner::network {
namespace {

TEST(SecretPlaceholder, KeepsTheShapeAndTheKindPrefixButNoCharacterOfTheValue) {
    const std::string real = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";
    std::set<std::string> seen;
    for (int i = 0; i < 20; ++i) {
        const std::string p = placeholderFor(real);
        ASSERT_EQ(p.size(), real.size());
        EXPECT_EQ(p.substr(0, 4), "ghp_");
        EXPECT_NE(p, real);
        for (size_t k = 4; k < p.size(); ++k) {
            const auto a = static_cast<unsigned char>(real[k]), b = static_cast<unsigned char>(p[k]);
            EXPECT_EQ(bool(std::isdigit(a)), bool(std::isdigit(b))) << k;
            EXPECT_EQ(bool(std::isupper(a)), bool(std::isupper(b))) << k;
            EXPECT_EQ(bool(std::islower(a)), bool(std::islower(b))) << k;
        }
        seen.insert(p);
    }
    EXPECT_EQ(seen.size(), 20u) << "a fresh placeholder each time (per job)";
    const std::string punctuated = "p@ss:w0rd/with+symbols==";
    const std::string q = placeholderFor(punctuated);
    EXPECT_EQ(q[1], '@');
    EXPECT_EQ(q.substr(q.size() - 2), "==");
}

TEST(SecretPlaceholder, OnlyBoundSecretsTheJobHasBecomeCredentials) {
    const std::map<std::string, std::string> secrets = {{"NPM_TOKEN", "npm_abcdefghijklmnop1234"},
                                                        {"OTHER", "left-alone-value"}};
    auto creds = secretPlaceholders(secrets, {{"NPM_TOKEN", {{"registry.npmjs.org"}, true, "test"}}, {"ABSENT", {{"x.test"}}}});
    ASSERT_EQ(creds.size(), 1u);
    EXPECT_EQ(creds[0].name, "NPM_TOKEN");
    EXPECT_EQ(creds[0].value.reveal(), "npm_abcdefghijklmnop1234");
    EXPECT_EQ(creds[0].hosts, std::vector<std::string>{"registry.npmjs.org"});
    EXPECT_EQ(creds[0].dummy.size(), creds[0].value.reveal().size());
    EXPECT_TRUE(creds[0].in_bodies);
    EXPECT_NE(creds[0].dummy, creds[0].value.reveal());
}

TEST(SecretPlaceholder, ASecretTooShortToStandInForIsAClearError) {
    try {
        secretPlaceholders({{"PIN", "1234"}}, {{"PIN", {{"bank.test"}}}});
        FAIL() << "no error";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("secret 'PIN' is bound to hosts but has 4 characters"),
                  std::string::npos)
            << e.what();
    }
}

TEST(SecretPlaceholder, SuggestedBindingsListEachSecretsHostsOnceAndLeaveTheForgeOut) {
    EXPECT_EQ(suggestSecretHosts({{"NPM_TOKEN", "registry.npmjs.org"},
                                  {"forge token", "git.example"},
                                  {"API", "b.test"},
                                  {"API", "a.test"},
                                  {"NPM_TOKEN", "registry.npmjs.org"}}),
              "# Secrets the job sent, and where (bind each so jobs see only a placeholder: the runner\n"
              "# config's proxy.secret_hosts, exec --secret-host, or a repository's .nixjail-network.yaml):\n"
              "# secret_hosts:\n"
              "#   API: [a.test, b.test]\n"
              "#   NPM_TOKEN: [registry.npmjs.org]\n");
    EXPECT_EQ(suggestSecretHosts({{"forge token", "git.example"}}), "");
}

TEST(SecretPlaceholder, TheFlagNamesTheSecretAndItsHosts) {
    auto [name, hosts] = parseSecretHost("API_KEY=api.example.com,*.cdn.example.com");
    EXPECT_EQ(name, "API_KEY");
    EXPECT_EQ(hosts, (std::vector<std::string>{"api.example.com", "*.cdn.example.com"}));
    for (const char* bad : {"API_KEY", "=host", "API_KEY=", "API_KEY=a,,b"}) {
        EXPECT_THROW(parseSecretHost(bad), base::Error) << bad;
    }
}

}  // namespace
}  // namespace nixjail::runner::network
