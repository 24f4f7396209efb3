// End-to-end: each jailed job's only way out is its own proxy. `exec --executor namespace` with a
// policy, an injected credential and a real TLS upstream (nginx with a private CA). Needs root,
// Nix and nginx.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "e2e_run.h"
#include "proxy/test_upstream.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"
#include "tests/support/host_addresses.h"

namespace {

namespace fs = std::filesystem;
using nixjail::base::TempDir;
using nixjail::e2e::runBinary;
using nixjail::proxy::testing::TestUpstream;

// Why this machine cannot run these tests (the jail, Nix, nginx and friends), or empty.
std::string missingPrerequisite() {
    const std::string why = nixjail::e2e::rootAndNixMissing();
    return why.empty() ? nixjail::proxy::testing::missingTestTools() : why;
}

#define REQUIRE_ROOT_NIX_NGINX() NIXJAIL_E2E_REQUIRE(missingPrerequisite())

// A host service on 0.0.0.0 the job must never reach.
struct HostListener {
    nixjail::base::UniqueFd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
    int port = 0;
    HostListener() {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        socklen_t len = sizeof a;
        if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), len) != 0 ||
            ::listen(fd.get(), 16) != 0 ||
            ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            throw std::runtime_error("cannot listen on 0.0.0.0");
        }
        port = ntohs(a.sin_port);
    }
    bool acceptedAnything() const {
        int c = ::accept4(fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) ::close(c);
        return c >= 0;
    }
};

std::string netnsCount() {
    // Named namespaces would be listed here; ours have no name and must not appear.
    size_t n = 0;
    if (fs::exists("/run/netns")) {
        for ([[maybe_unused]] const auto& e : fs::directory_iterator("/run/netns")) ++n;
    }
    return std::to_string(n);
}

TEST(ExecNetworkE2E, OnlyTheProxyLeadsOutWithPolicyCredentialsAndAudit) {
    REQUIRE_ROOT_NIX_NGINX();
    TestUpstream upstream;
    HostListener listener;
    TempDir dir("nixjail-e2e-net-");
    TempDir cache("nixjail-e2e-cache-");
    const std::string port = std::to_string(upstream.httpsPort());
    std::string ips;
    for (const auto& ip : nixjail::tests::hostIPv4Addresses()) ips += (ips.empty() ? "" : " ") + ip;

    nixjail::base::writeFile(dir.path() / "policy.yaml",
                             "rules:\n  - host: git.test\n    methods: [GET, HEAD]\n");
    nixjail::base::writeFile(
        dir.path() / "creds.yaml",
        std::string("- name: forge\n  env: NIXJAIL_E2E_TOKEN\n  hosts: [git.test]\n"
                    "  header: 'Authorization: token {token}'\n  dummy: ") +
            TestUpstream::kDummyToken + "\n");
    nixjail::base::writeFile(dir.path() / "w.yml", R"Y(on: push
jobs:
  net:
    runs-on: nix
    env: {NIXJAIL_PACKAGES: bash coreutils curl gnugrep}
    steps:
      - name: allowed host through the proxy, with the dummy
        run: |
          test "${{ secrets.forge }}" = "DUMMY-tok-""4e1d77aa" && echo saw-only-dummy
          curl -sS --fail "https://git.test:$PORT/whoami" -H "Authorization: token ${{ secrets.forge }}"
      - name: the job's CA is in the root's trust store too
        run: |
          env -u CURL_CA_BUNDLE -u SSL_CERT_FILE curl -sS --fail "https://git.test:$PORT/" && echo trust-store-ok
      - name: denied host
        run: |
          curl -sS --fail "https://evil.test:$PORT/" && echo evil-reached || echo evil-refused
      - name: denied method on an allowed host
        run: |
          curl -sS --fail -X DELETE "https://git.test:$PORT/whoami" && echo delete-reached || echo delete-refused
      - name: direct connections by IP
        run: |
          for ip in 127.0.0.1 $HOST_IPS; do
            curl -sS --noproxy '*' --connect-timeout 3 "http://$ip:$LPORT/" && echo "direct-reached $ip"
          done
          echo direct-done
      - name: the real value is nowhere in the jail
        run: |
          curl -sS --fail "https://git.test:$PORT/leak" -D /workspace/leak-headers -o /workspace/leak-body
          cat /workspace/leak-headers /workspace/leak-body
          env > /workspace/env.txt
          if grep -rqs "REAL-""tok" /workspace /runner /home /tmp /etc; then echo real-found; else echo real-absent; fi
)Y");
    auto env = nixjail::e2e::nixEnv();
    env.push_back(std::string("NIXJAIL_E2E_TOKEN=") + TestUpstream::kRealToken);
    const auto summary = dir.path() / "summary.json";
    const std::string before = netnsCount();
    auto r = runBinary({"exec",
                        "-W",
                        "w.yml",
                        "--executor",
                        "namespace",
                        "--nixpkgs",
                        (nixjail::e2e::kSource / "examples/nix").string(),
                        "--cache-dir",
                        cache.path().string(),
                        "--server-url",
                        "https://forge.test",
                        "--policy",
                        "policy.yaml",
                        "--credential-file",
                        "creds.yaml",
                        "--extra-ca-file",
                        upstream.caFile().string(),
                        "--host-override",
                        "git.test=127.0.0.1",
                        "--host-override",
                        "evil.test=127.0.0.1",
                        "--env",
                        "PORT=" + port,
                        "--env",
                        "HOST_IPS=" + ips,
                        "--env",
                        "LPORT=" + std::to_string(listener.port),
                        "--json-summary",
                        summary.string()},
                       dir.path(), env);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::string& out = r.out;
    if (std::getenv("NIXJAIL_E2E_SHOW")) std::fputs(out.c_str(), stderr);
    // Allowed host: the step sent the dummy, the upstream received the real value.
    EXPECT_NE(out.find("saw-only-dummy"), std::string::npos) << out;
    EXPECT_NE(out.find("host=git.test auth=real"), std::string::npos) << out;
    EXPECT_NE(out.find("network: allowed GET git.test:" + port + "/whoami"), std::string::npos)
        << out;
    EXPECT_NE(out.find("with credential 'forge'"), std::string::npos) << out;
    EXPECT_NE(out.find("hello from nginx"), std::string::npos) << out;
    EXPECT_NE(out.find("trust-store-ok"), std::string::npos) << out;
    // Denied host and method: refused, with the rule in the job log.
    EXPECT_NE(out.find("evil-refused"), std::string::npos) << out;
    EXPECT_EQ(out.find("evil-reached"), std::string::npos) << out;
    EXPECT_NE(out.find("Error: network: denied CONNECT evil.test:" + port +
                       " (rule: admin policy: no rule matched (default deny))"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("delete-refused"), std::string::npos) << out;
    EXPECT_NE(out.find("Error: network: denied DELETE git.test:" + port + "/whoami"),
              std::string::npos)
        << out;
    // No direct way out, by any address.
    EXPECT_NE(out.find("direct-done"), std::string::npos) << out;
    EXPECT_EQ(out.find("direct-reached"), std::string::npos) << out;
    EXPECT_FALSE(listener.acceptedAnything());
    // The real value: not in the jail, not in the output (masked or not).
    EXPECT_NE(out.find("real-absent"), std::string::npos) << out;
    EXPECT_EQ(out.find(TestUpstream::kRealToken), std::string::npos) << out;
    EXPECT_EQ(r.err.find(TestUpstream::kRealToken), std::string::npos) << r.err;
    // The job reports its proxy setup; nothing is left named on the host.
    const auto parsed = nlohmann::json::parse(nixjail::base::readFile(summary));
    EXPECT_TRUE(parsed["workflows"][0]["jobs"][0]["phases"].contains("proxy_setup"))
        << parsed.dump();
    EXPECT_EQ(netnsCount(), before);
}

// Issue 21: a workflow secret bound to a host (--secret-host) reaches the job only as a random
// placeholder of its shape; the real value arrives at that host (a real TLS upstream) in a header,
// the placeholder sent to another host stays the placeholder, the real value is nowhere in the
// jail, and an unbound secret still works as before.
TEST(ExecNetworkE2E, ABoundSecretIsAPlaceholderInTheJailAndRealOnlyOnItsHost) {
    REQUIRE_ROOT_NIX_NGINX();
    TestUpstream upstream;
    TempDir dir("nixjail-e2e-placeholder-");
    TempDir cache("nixjail-e2e-cache-");
    const std::string port = std::to_string(upstream.httpsPort());
    nixjail::base::writeFile(dir.path() / "policy.yaml",
                             "rules:\n  - host: git.test\n  - host: other.test\n");
    nixjail::base::writeFile(dir.path() / "w.yml", R"Y(on: push
jobs:
  placeholder:
    runs-on: nix
    env: {NIXJAIL_PACKAGES: bash coreutils curl gnugrep}
    steps:
      - env:
          KEY: ${{ secrets.API_KEY }}
        run: |
          [ "${#KEY}" = 17 ] && echo placeholder-same-length
          [ "$KEY" = "REAL-tok-""9a7b31c0" ] && echo placeholder-is-real
          case "$KEY" in REAL-*) echo placeholder-keeps-prefix;; esac
          [ "$KEY" = "${{ secrets.API_KEY }}" ] && echo env-and-context-agree
          curl -sS --fail "https://git.test:$PORT/whoami" -H "Authorization: token $KEY"
          curl -sS --fail "https://other.test:$PORT/whoami" -H "Authorization: token $KEY"
          [ "${{ secrets.PLAIN }}" = "plain-value-31415" ] && echo unbound-is-real
          echo "$KEY" > /workspace/key.txt
          if grep -rqs "REAL-tok-""9a7b31c0" /workspace /runner /home /tmp /proc/self/environ; then echo real-found; else echo real-absent; fi
)Y");
    auto env = nixjail::e2e::nixEnv();
    auto r = runBinary({"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
                        (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir",
                        cache.path().string(), "--policy", "policy.yaml", "--extra-ca-file",
                        upstream.caFile().string(), "--host-override", "git.test=127.0.0.1",
                        "--host-override", "other.test=127.0.0.1", "--env", "PORT=" + port,
                        "--secret", std::string("API_KEY=") + TestUpstream::kRealToken, "--secret",
                        "PLAIN=plain-value-31415", "--secret-host", "API_KEY=git.test"},
                       dir.path(), env);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::string& out = r.out;
    EXPECT_TRUE(nixjail::e2e::has(out, "Secrets as placeholders")) << out;
    EXPECT_TRUE(nixjail::e2e::has(out, "API_KEY (git.test; bound by runner config)")) << out;
    EXPECT_TRUE(nixjail::e2e::has(out, "placeholder-same-length")) << out;
    EXPECT_TRUE(nixjail::e2e::has(out, "placeholder-keeps-prefix")) << out;
    EXPECT_FALSE(nixjail::e2e::has(out, "placeholder-is-real")) << out;
    EXPECT_TRUE(nixjail::e2e::has(out, "env-and-context-agree")) << out;
    // Its host got the real value; another host got the placeholder (neither real nor dummy).
    EXPECT_TRUE(nixjail::e2e::has(out, "host=git.test auth=real")) << out;
    EXPECT_TRUE(nixjail::e2e::has(out, "host=other.test auth=other")) << out;
    EXPECT_TRUE(nixjail::e2e::has(out, "with credential 'API_KEY'")) << out;
    EXPECT_TRUE(nixjail::e2e::has(out, "unbound-is-real")) << out;
    EXPECT_TRUE(nixjail::e2e::has(out, "real-absent")) << out;
    EXPECT_FALSE(nixjail::e2e::has(out + r.err, TestUpstream::kRealToken));
    EXPECT_FALSE(nixjail::e2e::has(out + r.err, "plain-value-31415")) << "an unbound secret is masked as before";
}

// The repository's own .nixjail-network.yaml (read with --repository-policy, as the daemon's
// proxy.repository_policy) binds a secret the admin left unbound and narrows the policy: another
// host the admin allows is refused. A secret the admin lets into bodies arrives in an upload to
// its host with its real value, while the job only ever wrote the placeholder.
TEST(ExecNetworkE2E, ARepositoryFileBindsSecretsAndNarrowsThePolicyAndBodiesCarryAllowedSecrets) {
    REQUIRE_ROOT_NIX_NGINX();
    TestUpstream upstream;
    TempDir dir("nixjail-e2e-repo-network-");
    TempDir cache("nixjail-e2e-cache-");
    const std::string port = std::to_string(upstream.httpsPort());
    nixjail::base::writeFile(dir.path() / "policy.yaml",
                             "rules:\n  - host: git.test\n  - host: other.test\n");
    nixjail::base::writeFile(dir.path() / ".nixjail-network.yaml",
                             "rules:\n  - host: git.test\nsecret_hosts:\n  REPO_KEY: [git.test]\n");
    nixjail::base::writeFile(dir.path() / "w.yml", R"Y(on: push
jobs:
  repo-network:
    runs-on: nix
    env: {NIXJAIL_PACKAGES: bash coreutils curl gnugrep}
    steps:
      - env:
          KEY: ${{ secrets.REPO_KEY }}
          UP: ${{ secrets.UPLOAD_KEY }}
        run: |
          [ "$KEY" = "REAL-tok-""9a7b31c0" ] && echo "repo-key-""is-real"
          curl -sS --fail "https://git.test:$PORT/whoami" -H "Authorization: token $KEY"
          curl -sS --fail "https://other.test:$PORT/whoami" >/dev/null 2>&1 && echo other-reached || echo other-refused
          printf '{"upload":"%s"}' "$UP" > body.json
          curl -sS --fail -T body.json "https://git.test:$PORT/upload/body.json" && echo uploaded
          grep -q "$UP" body.json && echo job-wrote-placeholder
)Y");
    auto env = nixjail::e2e::nixEnv();
    const std::string upload_real = "upl0ad-Secret-27182818";
    auto r = runBinary({"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
                        (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir",
                        cache.path().string(), "--policy", "policy.yaml", "--extra-ca-file",
                        upstream.caFile().string(), "--host-override", "git.test=127.0.0.1",
                        "--host-override", "other.test=127.0.0.1", "--env", "PORT=" + port,
                        "--secret", std::string("REPO_KEY=") + TestUpstream::kRealToken, "--secret",
                        "UPLOAD_KEY=" + upload_real, "--secret-host", "UPLOAD_KEY=git.test",
                        "--secret-in-bodies", "UPLOAD_KEY", "--repository-policy"},
                       dir.path(), env);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::string& out = r.out;
    EXPECT_TRUE(nixjail::e2e::has(out, "the repository's network rules narrow the policy")) << out;
    EXPECT_TRUE(nixjail::e2e::has(out, "REPO_KEY (git.test; bound by " + (dir.path() / ".nixjail-network.yaml").string()))
        << out;
    EXPECT_TRUE(nixjail::e2e::has(out, "UPLOAD_KEY (git.test, request bodies too; bound by runner config)")) << out;
    EXPECT_FALSE(nixjail::e2e::has(out, "repo-key-is-real")) << out;
    EXPECT_TRUE(nixjail::e2e::has(out, "host=git.test auth=real")) << out;
    EXPECT_TRUE(nixjail::e2e::has(out, "other-refused")) << out;
    EXPECT_TRUE(nixjail::e2e::has(out, "repository policy")) << "the refusal names the repository's layer: " << out;
    EXPECT_TRUE(nixjail::e2e::has(out, "uploaded")) << out;
    EXPECT_TRUE(nixjail::e2e::has(out, "job-wrote-placeholder")) << out;
    EXPECT_EQ(nixjail::base::readFile(upstream.wwwDir() / "upload/body.json"), "{\"upload\":\"" + upload_real + "\"}");
    EXPECT_FALSE(nixjail::e2e::has(out + r.err, TestUpstream::kRealToken));
    EXPECT_FALSE(nixjail::e2e::has(out + r.err, upload_real));
}

// Audit mode learns where secrets go: each unbound secret is a placeholder for any host, so the
// job works (its host gets the real value) while holding only the placeholder, and policy suggest
// lists the hosts each secret was sent to, next to the rules.
TEST(ExecNetworkE2E, AuditModeLearnsWhereEachSecretIsSentForPolicySuggest) {
    REQUIRE_ROOT_NIX_NGINX();
    TestUpstream upstream;
    TempDir dir("nixjail-e2e-learn-");
    TempDir cache("nixjail-e2e-cache-");
    const std::string port = std::to_string(upstream.httpsPort());
    nixjail::base::writeFile(dir.path() / "w.yml", R"Y(on: push
jobs:
  learn:
    runs-on: nix
    env: {NIXJAIL_PACKAGES: bash coreutils curl}
    steps:
      - env:
          KEY: ${{ secrets.API_KEY }}
          OTHER: ${{ secrets.OTHER_KEY }}
        run: |
          [ "$KEY" = "REAL-tok-""9a7b31c0" ] && echo "key-""is-real"
          curl -sS --fail "https://git.test:$PORT/whoami" -H "Authorization: token $KEY"
          curl -sS --fail -o /dev/null "https://other.test:$PORT/whoami?k=$OTHER" && echo other-ok
)Y");
    auto env = nixjail::e2e::nixEnv();
    const auto summary = dir.path() / "summary.json";
    auto r = runBinary({"exec", "-W", "w.yml", "--executor", "namespace", "--network-audit", "--nixpkgs",
                        (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir",
                        cache.path().string(), "--extra-ca-file", upstream.caFile().string(),
                        "--host-override", "git.test=127.0.0.1", "--host-override", "other.test=127.0.0.1",
                        "--env", "PORT=" + port, "--secret", std::string("API_KEY=") + TestUpstream::kRealToken,
                        "--secret", "OTHER_KEY=other-secret-value-1618", "--json-summary", summary.string()},
                       dir.path(), env);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::string& out = r.out;
    EXPECT_TRUE(nixjail::e2e::has(out, "API_KEY (*; bound by audit mode, to learn where it goes)")) << out;
    EXPECT_FALSE(nixjail::e2e::has(out, "key-is-real")) << out;
    EXPECT_TRUE(nixjail::e2e::has(out, "host=git.test auth=real")) << out;
    EXPECT_TRUE(nixjail::e2e::has(out, "other-ok")) << out;
    auto suggested = runBinary({"policy", "suggest", "--summary", summary.string()}, dir.path());
    ASSERT_EQ(suggested.exit_code, 0) << suggested.err;
    EXPECT_TRUE(nixjail::e2e::has(suggested.out, "  - host: \"git.test\"\n")) << suggested.out;
    EXPECT_TRUE(nixjail::e2e::has(suggested.out, "# secret_hosts:\n#   API_KEY: [git.test]\n#   OTHER_KEY: [other.test]\n"))
        << suggested.out;
    EXPECT_FALSE(nixjail::e2e::has(out + r.err + suggested.out, TestUpstream::kRealToken));
}

// The forge's token (github.token, secrets.GITHUB_TOKEN/GITEA_TOKEN) reaches a jailed job only as a
// dummy, in every expression (job env included); its proxy puts the real token back into requests
// to the forge: an API call and git's smart-HTTP Basic auth succeed with the dummy.
TEST(ExecNetworkE2E, TheForgeTokenIsADummyInTheJailAndWorksThroughTheProxy) {
    REQUIRE_ROOT_NIX_NGINX();
    TestUpstream upstream;
    TempDir dir("nixjail-e2e-net-");
    TempDir cache("nixjail-e2e-cache-");
    const std::string port = std::to_string(upstream.httpsPort());
    nixjail::base::writeFile(dir.path() / "w.yml", R"Y(on: push
jobs:
  token:
    runs-on: nix
    env:
      NIXJAIL_PACKAGES: bash coreutils curl gnugrep
      JOB_TOKEN: ${{ github.token }}
    steps:
      - name: only dummies
        run: |
          for t in "${{ github.token }}" "${{ secrets.GITHUB_TOKEN }}" "${{ secrets.GITEA_TOKEN }}" "$JOB_TOKEN"; do
            case "$t" in nixjail-dummy-*) echo dummy-seen ;; *) echo not-a-dummy ;; esac
          done
          test "${{ github.token }}" = "$JOB_TOKEN" && echo same-dummy
      - name: an API call with the dummy
        run: |
          curl -sS --fail "https://git.test:$PORT/whoami" -H "Authorization: token ${{ github.token }}"
      - name: git smart HTTP with the dummy in Basic auth
        run: |
          curl -sS --fail -u "x-access-token:${{ github.token }}" \
            "https://git.test:$PORT/git/repo.git/info/refs?service=git-upload-pack" -o refs
          grep -q "service=git-upload-pack" refs && echo git-auth-ok
      - name: the real token is nowhere in the jail
        run: |
          if grep -rqs "REAL-""tok" /workspace /runner /home /tmp /etc /proc/self/environ; then echo real-found; else echo real-absent; fi
)Y");
    auto env = nixjail::e2e::nixEnv();
    env.push_back(std::string("GITHUB_TOKEN=") + TestUpstream::kRealToken);
    env.push_back(std::string("GITEA_TOKEN=") + TestUpstream::kRealToken);
    auto r = runBinary({"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
                        (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir",
                        cache.path().string(), "--server-url", "https://git.test:" + port,
                        "--secret", "GITHUB_TOKEN", "--secret", "GITEA_TOKEN", "--extra-ca-file",
                        upstream.caFile().string(), "--host-override", "git.test=127.0.0.1",
                        "--env", "PORT=" + port},
                       dir.path(), env);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::string& out = r.out;
    size_t dummies = 0;
    for (size_t at = out.find("dummy-seen"); at != std::string::npos;
         at = out.find("dummy-seen", at + 1))
        ++dummies;
    EXPECT_EQ(dummies, 4u) << out;
    EXPECT_EQ(out.find("not-a-dummy"), std::string::npos) << out;
    EXPECT_NE(out.find("same-dummy"), std::string::npos) << out;
    EXPECT_NE(out.find("host=git.test auth=real"), std::string::npos) << out;
    EXPECT_NE(out.find("with credential 'forge token'"), std::string::npos) << out;
    EXPECT_NE(out.find("git-auth-ok"), std::string::npos) << out;
    EXPECT_NE(out.find("real-absent"), std::string::npos) << out;
    EXPECT_EQ(out.find(TestUpstream::kRealToken), std::string::npos) << out;
    EXPECT_EQ(r.err.find(TestUpstream::kRealToken), std::string::npos) << r.err;
}

TEST(ExecNetworkE2E, HostExecutorSaysItUsesTheHostNetwork) {
    TempDir dir("nixjail-e2e-net-");
    nixjail::base::writeFile(
        dir.path() / "w.yml",
        "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: echo hi\n");
    auto r = runBinary({"exec", "--executor", "host", "-W", "w.yml"}, dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("runs steps in the host's network, without the job's proxy"),
              std::string::npos)
        << r.out;
}

TEST(ExecNetworkE2E, BadCredentialFileIsReportedBeforeAnythingRuns) {
    TempDir dir("nixjail-e2e-net-");
    nixjail::base::writeFile(
        dir.path() / "w.yml",
        "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: echo ran\n");
    nixjail::base::writeFile(dir.path() / "creds.yaml",
                             "- name: a\n  env: NIXJAIL_E2E_UNSET_VAR\n  hosts: [a.test]\n"
                             "  header: 'X: {token}'\n  dummy: a-dummy-0123\n");
    auto r = runBinary({"exec", "--executor", "host", "-W", "w.yml", "--credential-file", "creds.yaml"}, dir.path());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("'NIXJAIL_E2E_UNSET_VAR' is unset"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("ran"), std::string::npos);
}

}  // namespace
