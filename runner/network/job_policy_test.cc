// The pure parts of the job network: the composed policy, audit lines, URL hosts.
#include <gtest/gtest.h>

#include "runner/network/job_network.h"

namespace nixjail::runner::network {
namespace {

TEST(JobPolicy, ForgeHostsAreAllowedFirstAndEverythingElseDeniedByDefault) {
    auto none = jobPolicy({}, {"git.example.org"});
    EXPECT_EQ(none.evaluate("POST", "git.example.org", "/o/r.git/git-upload-pack").decision,
              proxy::PolicyDecision::kAllow);
    EXPECT_EQ(none.evaluate("GET", "example.org", "/").decision, proxy::PolicyDecision::kDeny);
    EXPECT_EQ(jobPolicy({}, {}).evaluate("GET", "git.example.org", "/").decision,
              proxy::PolicyDecision::kDeny);

    NetworkSettings s;
    auto admin = proxy::parsePolicy(
        "rules:\n  - host: git.example.org\n    action: deny\n  - host: '*.npmjs.org'\n",
        "admin.yaml", "admin");
    ASSERT_TRUE(admin);
    s.admin_policy = *admin;
    auto job = proxy::parsePolicy("rules:\n  - host: registry.npmjs.org\n    methods: [GET]\n",
                                  "job.yaml", "job");
    ASSERT_TRUE(job);
    s.job_policy = *job;
    auto p = jobPolicy(s, {"git.example.org"});
    // The forge stays reachable whatever a layer says about it.
    EXPECT_EQ(p.evaluate("GET", "git.example.org", "/").decision, proxy::PolicyDecision::kAllow);
    EXPECT_EQ(p.evaluate("GET", "registry.npmjs.org", "/x").decision,
              proxy::PolicyDecision::kAllow);
    // The job narrows: no PUT, no other npmjs host.
    EXPECT_EQ(p.evaluate("PUT", "registry.npmjs.org", "/x").decision, proxy::PolicyDecision::kDeny);
    EXPECT_EQ(p.evaluate("GET", "www.npmjs.org", "/").decision, proxy::PolicyDecision::kDeny);
}

TEST(DescribeAudit, NamesTargetRuleAndOutcome) {
    proxy::AuditRecord r;
    r.method = "CONNECT";
    r.host = "evil.test";
    r.port = 443;
    r.rule = "admin policy: no rule matched (default deny)";
    r.status = 403;
    EXPECT_EQ(
        describeAudit(r),
        "denied CONNECT evil.test:443 (rule: admin policy: no rule matched (default deny)) -> 403");
    r.method = "GET";
    r.host = "api.test";
    r.path = "/v1";
    r.decision = proxy::PolicyDecision::kAllow;
    r.rule = "runner policy: rule allow host 'api.test'";
    r.credentials = {"npm"};
    r.status = 200;
    EXPECT_EQ(describeAudit(r),
              "allowed GET https://api.test/v1 (rule: runner policy: rule allow host 'api.test') "
              "with credential 'npm' -> 200");
    r.port = 8443;
    EXPECT_EQ(describeAudit(r).substr(0, 33), "allowed GET api.test:8443/v1 (rul");
}

TEST(UrlHost, ExtractsTheHostName) {
    EXPECT_EQ(urlHost("https://Git.Example.org:3000/x/y"), "git.example.org");
    EXPECT_EQ(urlHost("http://user:pw@host.test/"), "host.test");
    EXPECT_EQ(urlHost("https://[::1]:8080/"), "::1");
    EXPECT_EQ(urlHost("not a url"), "");
}

}  // namespace
}  // namespace nixjail::runner::network
