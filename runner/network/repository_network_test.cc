#include "runner/network/repository_network.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::runner::network {
namespace {

std::string errorOf(std::string_view yaml) {
    try {
        parseRepositoryNetwork(yaml, ".nixjail-network.yaml");
    } catch (const base::Error& e) {
        return e.what();
    }
    return "";
}

TEST(RepositoryNetwork, RulesBecomeTheJobLayerAndSecretsAreBoundToTheirHosts) {
    auto repo = parseRepositoryNetwork(R"(
rules:
  - host: registry.npmjs.org
secret_hosts:
  NPM_TOKEN: [registry.npmjs.org]
)",
                                       ".nixjail-network.yaml");
    ASSERT_TRUE(repo.rules);
    EXPECT_EQ(repo.rules->evaluate("GET", "registry.npmjs.org", "/x").decision, proxy::PolicyDecision::kAllow);
    EXPECT_EQ(repo.rules->evaluate("GET", "evil.test", "/x").decision, proxy::PolicyDecision::kDeny);
    ASSERT_EQ(repo.secret_hosts.count("NPM_TOKEN"), 1u);
    EXPECT_EQ(repo.secret_hosts["NPM_TOKEN"].hosts, std::vector<std::string>{"registry.npmjs.org"});
    EXPECT_EQ(repo.secret_hosts["NPM_TOKEN"].origin, ".nixjail-network.yaml");

    auto only_secrets = parseRepositoryNetwork("secret_hosts: {A: [a.test]}\n", "f");
    EXPECT_FALSE(only_secrets.rules) << "no rules: no job layer (an empty one would deny everything)";
    EXPECT_FALSE(parseRepositoryNetwork("", "f").rules);
}

TEST(RepositoryNetwork, EveryProblemIsNamedWithItsPlace) {
    const auto e = errorOf("rules:\n  - hots: a.test\nsecret_hosts:\n  A: []\n  B: a.test\nextra: 1\n");
    EXPECT_NE(e.find("5 problems in .nixjail-network.yaml"), std::string::npos) << e;
    EXPECT_NE(e.find(".nixjail-network.yaml:2:5: unknown rule key 'hots'"), std::string::npos) << e;
    EXPECT_NE(e.find(".nixjail-network.yaml:4:6: secret 'A' needs a list of hosts"), std::string::npos) << e;
    EXPECT_NE(e.find("secret 'B' needs a list of hosts"), std::string::npos) << e;
    EXPECT_NE(e.find(".nixjail-network.yaml:6:1: unknown key 'extra'"), std::string::npos) << e;
    EXPECT_NE(errorOf("rules: [\n").find(".nixjail-network.yaml:"), std::string::npos);
    EXPECT_NE(errorOf("- a\n").find("expected a mapping"), std::string::npos);
}

TEST(RepositoryNetwork, TheAdminsBindingsStandAndBodiesStayTheAdminsChoice) {
    NetworkSettings settings;
    settings.secret_hosts["ADMIN_BOUND"] = {{"safe.test"}, true, "runner config"};
    RepositoryNetwork repo;
    repo.rules = proxy::Policy::fromRules("repository", {});
    repo.secret_hosts["ADMIN_BOUND"] = {{"evil.test"}, false, ".nixjail-network.yaml"};
    repo.secret_hosts["NEW"] = {{"new.test"}, true, ".nixjail-network.yaml"};
    const auto notes = applyRepositoryNetwork(std::move(repo), settings);
    EXPECT_EQ(settings.secret_hosts["ADMIN_BOUND"].hosts, std::vector<std::string>{"safe.test"});
    EXPECT_EQ(settings.secret_hosts["NEW"].hosts, std::vector<std::string>{"new.test"});
    EXPECT_FALSE(settings.secret_hosts["NEW"].in_bodies) << "a repository cannot let a secret into bodies";
    EXPECT_FALSE(settings.job_policy.empty());
    ASSERT_EQ(notes.size(), 2u);
    EXPECT_NE(notes[1].find("secret ADMIN_BOUND: the runner's binding stands"), std::string::npos) << notes[1];
}

TEST(RepositoryNetwork, TheFileIsReadOnlyAsARegularFileOfBoundedSize) {
    base::TempDir tree("nixjail-repo-network-");
    EXPECT_FALSE(readRepositoryNetwork(tree.path(), "f")) << "no file: nothing to add";
    std::filesystem::create_symlink("/etc/hostname", tree.path() / kRepositoryNetworkFile);
    EXPECT_THROW(readRepositoryNetwork(tree.path(), "f"), base::Error) << "never follows a link out";
    std::filesystem::remove(tree.path() / kRepositoryNetworkFile);
    base::writeFile(tree.path() / kRepositoryNetworkFile, "secret_hosts: {A: [a.test]}\n" + std::string(70000, '#'));
    EXPECT_THROW(readRepositoryNetwork(tree.path(), "f"), base::Error);
    base::writeFile(tree.path() / kRepositoryNetworkFile, "secret_hosts: {A: [a.test]}\n");
    auto repo = readRepositoryNetwork(tree.path(), "repo/.nixjail-network.yaml");
    ASSERT_TRUE(repo);
    EXPECT_EQ(repo->secret_hosts.at("A").origin, "repo/.nixjail-network.yaml");
}

}  // namespace
}  // namespace nixjail::runner::network
