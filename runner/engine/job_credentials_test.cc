// The credential swap, tried directly: a proxied job sees only dummies of the forge's tokens and
// the admin's credentials (github context, secrets, env), the masker knows every real value, and a
// dummy becomes the real value again only for the hosts its credential is valid on. An unproxied
// job (the host executor) keeps the real values: nothing could put them back.
#include "runner/engine/job_credentials.h"

#include <gtest/gtest.h>

#include "executor/host/host_executor.h"
#include "executor/namespace/namespace_executor.h"

namespace nixjail::runner::engine {
namespace {

using Json = nlohmann::json;

const std::string kToken = "real-forge-token-0123456789";
const std::string kRuntime = "real-runtime-token-abcdef";
const std::string kRegistry = "real-registry-secret-42";

std::vector<proxy::Credential> admin() {
    proxy::Credential c;
    c.name = "REGISTRY_TOKEN";
    c.value = base::Secret(kRegistry);
    c.hosts = {"registry.example"};
    c.header_template = "Authorization: Bearer {token}";
    c.dummy = "dummy-registry-token";
    return {c};
}

Json github() {
    return {{"token", kToken},
            {"gitea_runtime_token", kRuntime},
            {"server_url", "https://forge.example"},
            {"repository", "acme/app"}};
}

job::JobPlan proxiedPlan() {
    return job::planJob("namespace", executor::namespaceTraits({}, 0, 0), {});
}

TEST(JobCredentials, AProxiedJobSeesOnlyDummies) {
    SecretMasker masker;
    JobCredentials creds(proxiedPlan(), admin(), github(), {"forge.example"}, {}, masker);
    ASSERT_GE(creds.all().size(), 3u) << "the admin's credential and the forge's two tokens";

    Json gh = github();
    creds.hideIn(gh);
    EXPECT_NE(gh["token"], kToken);
    EXPECT_NE(gh["gitea_runtime_token"], kRuntime);
    EXPECT_EQ(gh["repository"], "acme/app") << "other values stay";
    EXPECT_EQ(gh["server_url"], "https://forge.example");

    const Json secrets =
        creds.secretsContext({{"GITHUB_TOKEN", kToken}, {"DEPLOY_KEY", "not-a-credential"}});
    EXPECT_EQ(secrets["GITHUB_TOKEN"], gh["token"]) << "the same dummy as github.token";
    EXPECT_EQ(secrets["DEPLOY_KEY"], "not-a-credential");
    EXPECT_EQ(secrets["REGISTRY_TOKEN"], "dummy-registry-token") << "the admin's, by name";

    workflow::EnvList env{{"ACTIONS_RUNTIME_TOKEN", kRuntime}, {"PLAIN", "value"}};
    creds.hideIn(env);
    EXPECT_EQ(env[0].second, gh["gitea_runtime_token"].get<std::string>());
    EXPECT_EQ(env[1].second, "value");

    const std::string seen = gh.dump() + secrets.dump() + env[0].second;
    for (const auto& real : {kToken, kRuntime, kRegistry}) {
        EXPECT_EQ(seen.find(real), std::string::npos) << real << " reached the job";
        EXPECT_EQ(masker.mask("x " + real + " y"), "x *** y") << real << " is not masked";
    }
}

TEST(JobCredentials, ADummyBecomesRealOnlyWhereItsCredentialIsValid) {
    SecretMasker masker;
    JobCredentials creds(proxiedPlan(), admin(), github(), {"forge.example"}, {}, masker);
    Json gh = github();
    creds.hideIn(gh);
    const std::string dummy = gh["token"];
    EXPECT_EQ(creds.realValueFor(dummy, "https://forge.example/acme/app.git"), kToken);
    EXPECT_EQ(creds.realValueFor(dummy, "https://elsewhere.example/acme/app.git"), dummy);
    EXPECT_EQ(creds.realValueFor(dummy, "http://forge.example/acme/app.git"), dummy)
        << "not over plain http to an https forge";
    EXPECT_EQ(creds.realValueFor("dummy-registry-token", "https://registry.example/v2/"), kRegistry);
    EXPECT_EQ(creds.realValueFor("something-else", "https://forge.example/"), "something-else");
}

// The proxy's audit mode learns where secrets go: every unbound secret long enough becomes a
// placeholder for any host, while the forge's tokens, the admin's credentials, bound secrets and
// short ones keep what they had.
TEST(JobCredentials, AuditModeMakesEveryOtherSecretAPlaceholderForAnyHost) {
    SecretMasker masker;
    const std::map<std::string, std::string> secrets = {{"GITHUB_TOKEN", kToken},
                                                        {"SAME_AS_ADMIN", kRegistry},
                                                        {"DEPLOY_KEY", "deploy-key-0123456789"},
                                                        {"BOUND", "bound-value-987654321"},
                                                        {"PIN", "1234"}};
    network::SecretHosts bound{{"BOUND", {{"bound.example"}, false, "runner config"}}};
    JobCredentials creds(proxiedPlan(), admin(), github(), {"forge.example"}, {}, masker, secrets, bound, true);
    std::map<std::string, std::vector<std::string>> hosts;
    for (const auto& p : creds.placeholders()) hosts[p.name] = p.hosts;
    EXPECT_EQ(hosts, (std::map<std::string, std::vector<std::string>>{{"BOUND", {"bound.example"}},
                                                                      {"DEPLOY_KEY", {"*"}}}));
    EXPECT_EQ(creds.bindings().at("DEPLOY_KEY").origin, "audit mode, to learn where it goes");
    const Json ctx = creds.secretsContext(secrets);
    EXPECT_NE(ctx["DEPLOY_KEY"], "deploy-key-0123456789");
    EXPECT_EQ(ctx["PIN"], "1234") << "too short to stand in for: as before";
    JobCredentials enforcing(proxiedPlan(), admin(), github(), {"forge.example"}, {}, masker, secrets, bound, false);
    EXPECT_EQ(enforcing.placeholders().size(), 1u) << "only the bound one outside audit mode";
}

TEST(JobCredentials, AnUnproxiedJobKeepsTheRealValues) {
    SecretMasker masker;
    const auto plan = job::planJob("host", executor::hostTraits(), {});
    JobCredentials creds(plan, admin(), github(), {"forge.example"}, {}, masker);
    EXPECT_EQ(creds.all().size(), 1u) << "only the admin's, which nothing injects";
    Json gh = github();
    creds.hideIn(gh);
    EXPECT_EQ(gh["token"], kToken);
    const Json secrets = creds.secretsContext({{"GITHUB_TOKEN", kToken}});
    EXPECT_EQ(secrets["GITHUB_TOKEN"], kToken);
    EXPECT_FALSE(secrets.contains("REGISTRY_TOKEN"));
}

}  // namespace
}  // namespace nixjail::runner::engine
