#include "proxy/policy.h"

#include <gtest/gtest.h>

namespace nixjail::proxy {
namespace {

Policy parse(const std::string& yaml, const std::string& layer = "job") {
    auto p = parsePolicy(yaml, layer + ".yaml", layer);
    if (!p) {
        std::string all;
        for (const auto& e : p.error()) all += std::string(e.what()) + "\n";
        ADD_FAILURE() << all;
        return {};
    }
    return std::move(*p);
}

TEST(PolicyMatch, FirstMatchingRuleWins) {
    Policy p = parse(R"(
rules:
  - host: api.test
    path: "^/admin/.*"
    action: deny
  - host: api.test
)");
    EXPECT_EQ(p.evaluate("GET", "api.test", "/v1/x").decision, PolicyDecision::kAllow);
    auto v = p.evaluate("GET", "api.test", "/admin/users");
    EXPECT_EQ(v.decision, PolicyDecision::kDeny);
    ASSERT_TRUE(v.rule);
    EXPECT_NE(v.describe().find("deny host 'api.test' path '^/admin/.*' (job.yaml:3:5)"),
              std::string::npos)
        << v.describe();
}

TEST(PolicyMatch, DefaultDenyNamesNoRule) {
    Policy p = parse("rules:\n  - host: a.test\n");
    auto v = p.evaluate("GET", "b.test", "/");
    EXPECT_EQ(v.decision, PolicyDecision::kDeny);
    EXPECT_EQ(v.describe(), "job policy: no rule matched (default deny)");
    EXPECT_EQ(Policy().evaluate("GET", "a.test", "/").decision, PolicyDecision::kDeny);
}

TEST(PolicyMatch, GlobRegexAndMethods) {
    Policy p = parse(R"(
rules:
  - host: "*.example.com"
    methods: [get, HEAD]
  - host_regex: "^(.+\\.)?example\\.org$"
)");
    EXPECT_EQ(p.evaluate("GET", "a.b.example.com", "/").decision, PolicyDecision::kAllow);
    EXPECT_EQ(p.evaluate("POST", "a.example.com", "/").decision, PolicyDecision::kDeny);
    EXPECT_EQ(p.evaluate("GET", "example.com", "/").decision, PolicyDecision::kDeny);
    EXPECT_EQ(p.evaluate("POST", "example.org", "/").decision, PolicyDecision::kAllow);
    EXPECT_EQ(p.evaluate("POST", "x.example.org", "/").decision, PolicyDecision::kAllow);
    EXPECT_EQ(p.evaluate("POST", "example.org.evil", "/").decision, PolicyDecision::kDeny);
}

TEST(PolicyMatch, PathRegexMatchesWholePath) {
    Policy p = parse("rules:\n  - host: a.test\n    path: \"/ok\"\n");
    EXPECT_EQ(p.evaluate("GET", "a.test", "/ok").decision, PolicyDecision::kAllow);
    EXPECT_EQ(p.evaluate("GET", "a.test", "/ok/../secret").decision, PolicyDecision::kDeny);
}

TEST(PolicyCompose, JobCanOnlyNarrow) {
    Policy admin = parse("rules:\n  - host: \"*.test\"\n", "admin");
    Policy job = parse("rules:\n  - host: a.test\n  - host: evil.example\n", "job");
    Policy p = Policy::compose(admin, Policy(), job);
    EXPECT_EQ(p.evaluate("GET", "a.test", "/").decision, PolicyDecision::kAllow);
    auto narrowed = p.evaluate("GET", "b.test", "/");
    EXPECT_EQ(narrowed.decision, PolicyDecision::kDeny);
    EXPECT_EQ(narrowed.layer, "job");
    auto widened = p.evaluate("GET", "evil.example", "/");
    EXPECT_EQ(widened.decision, PolicyDecision::kDeny);
    EXPECT_EQ(widened.layer, "admin");
}

TEST(PolicyCompose, RunnerRulesGoFirstInEveryLayer) {
    Policy admin = parse("rules:\n  - host: \"*.test\"\n", "admin");
    Policy job = parse("rules:\n  - host: a.test\n", "job");
    PolicyRule forge;
    forge.host = HostPattern::literalOrGlob("forge.example");
    forge.path_regex = "/org/repo\\.git/.*";
    forge.compile();
    forge.origin = "runner: forge git endpoint";
    Policy p = Policy::compose(admin, Policy(), job).withRulesFirstInEveryLayer({forge}, "runner");
    EXPECT_EQ(p.evaluate("GET", "forge.example", "/org/repo.git/info/refs").decision,
              PolicyDecision::kAllow);
    EXPECT_EQ(p.evaluate("GET", "forge.example", "/org/other.git/info/refs").decision,
              PolicyDecision::kDeny);
    EXPECT_EQ(p.evaluate("GET", "a.test", "/").decision, PolicyDecision::kAllow);
    EXPECT_EQ(Policy()
                  .withRulesFirstInEveryLayer({forge}, "runner")
                  .evaluate("GET", "forge.example", "/org/repo.git/x")
                  .decision,
              PolicyDecision::kAllow);
}

TEST(PolicyHost, ConnectIsRefusedOnlyWhenNoRequestCouldPass) {
    Policy p = parse(R"(
rules:
  - host: a.test
    path: "/secret"
    action: deny
  - host: a.test
    path: "/pub/.*"
  - host: b.test
    action: deny
  - host: "*.test"
)");
    EXPECT_EQ(p.evaluateHost("a.test").decision, PolicyDecision::kAllow);
    EXPECT_EQ(p.evaluateHost("b.test").decision, PolicyDecision::kDeny);
    EXPECT_EQ(p.evaluateHost("c.test").decision, PolicyDecision::kAllow);
    EXPECT_EQ(p.evaluateHost("c.other").decision, PolicyDecision::kDeny);
}

TEST(PolicyLoad, ReportsEveryProblemWithPosition) {
    auto p = parsePolicy(R"(
rules:
  - hots: a.test
  - host: b.test
    action: maybe
  - host_regex: "(["
)",
                         "p.yaml", "job");
    ASSERT_FALSE(p);
    std::string all;
    for (const auto& e : p.error()) all += std::string(e.what()) + "\n";
    EXPECT_NE(all.find("p.yaml:3:5: unknown rule key 'hots'; did you mean 'host'?"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("p.yaml:5:13: action must be 'allow' or 'deny'"), std::string::npos) << all;
    EXPECT_NE(all.find("p.yaml:6:17: invalid regular expression"), std::string::npos) << all;
}

TEST(PolicySuggest, AllowsExactlyWhatWasSeen) {
    std::vector<ObservedRequest> seen = {{"GET", "api.test", "/v1/a"},
                                         {"POST", "api.test", "/v1/b"},
                                         {"GET", "cache.test", "/x"},
                                         {"CONNECT", "tunnel-only.test", ""}};
    std::string yaml = suggestPolicy(seen);
    EXPECT_EQ(yaml,
              "rules:\n  - host: \"api.test\"\n    methods: [GET, POST]\n  - host: \"cache.test\"\n"
              "    methods: [GET]\n  - host: \"tunnel-only.test\"\n");
    Policy p = parse(yaml);
    for (const auto& r : seen) {
        if (r.method == "CONNECT") continue;
        EXPECT_EQ(p.evaluate(r.method, r.host, r.path).decision, PolicyDecision::kAllow);
    }
    EXPECT_EQ(p.evaluate("DELETE", "api.test", "/v1/a").decision, PolicyDecision::kDeny);
    EXPECT_EQ(p.evaluate("GET", "other.test", "/").decision, PolicyDecision::kDeny);
}

TEST(PolicyLoad, RejectsNonPolicyDocuments) {
    EXPECT_FALSE(parsePolicy("- a\n", "p.yaml", "job"));
    EXPECT_FALSE(parsePolicy("rule: []\n", "p.yaml", "job"));
    EXPECT_FALSE(parsePolicy("rules: [\n", "p.yaml", "job"));
}

}  // namespace
}  // namespace nixjail::proxy
