// The proxy with real clients (curl, python3 urllib, node, git) against real nginx, all on
// loopback.
#include "proxy/proxy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "proxy/ssl_error.h"
#include "proxy/test_upstream.h"
#include "proxy/upstream_trust.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::proxy {
namespace {

namespace fs = std::filesystem;
using testing::TestUpstream;
using testing::ToolResult;

bool strict() {
    const char* s = std::getenv("NIXJAIL_TESTS_STRICT");
    return s && std::string(s) == "1";
}

constexpr const char* kPolicy = R"(
rules:
  - host: api.test
    path: "/admin/.*"
    action: deny
  - host: api.test
    methods: [GET, HEAD, PUT, POST]
  - host: git.test
  - host: other.test
  - host: badname.test
  - host: silent.test
  - host: 127.0.0.1
)";

class ProxyEndToEnd : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        std::string missing = testing::missingTestTools();
        if (!missing.empty()) {
            skip_reason_ = new std::string(missing);
            return;
        }
        upstream_ = new TestUpstream();
    }
    static void TearDownTestSuite() {
        delete upstream_;
        upstream_ = nullptr;
        delete skip_reason_;
        skip_reason_ = nullptr;
    }

    void SetUp() override {
        if (skip_reason_) {
            if (strict()) FAIL() << *skip_reason_;
            GTEST_SKIP() << *skip_reason_;
        }
        scratch_ = std::make_unique<base::TempDir>("nixjail-proxy-test-");
        start(defaultConfig());
    }

    ProxyConfig defaultConfig() {
        ProxyConfig c;
        c.allow_host_upstreams = true;  // some tests address the upstream as 127.0.0.1
        auto parsed = parsePolicy(kPolicy, "test-policy.yaml", "job");
        EXPECT_TRUE(parsed);
        c.policy = std::move(*parsed);
        Credential cred;
        cred.name = "forge-token";
        cred.value = base::Secret(TestUpstream::kRealToken);
        cred.hosts = {"git.test", "api.test"};
        cred.header_template = "Authorization: token {token}";
        cred.dummy = TestUpstream::kDummyToken;
        c.credentials.push_back(cred);
        c.extra_upstream_ca_file = upstream_->caFile();
        for (const char* h : {"api.test", "git.test", "other.test", "evil.test", "badname.test"}) {
            c.host_overrides[h] = "127.0.0.1";
        }
        c.audit = [this](const AuditRecord& r) {
            std::lock_guard lock(audit_mutex_);
            audit_.push_back(r);
            audit_cv_.notify_all();
        };
        return c;
    }

    void start(ProxyConfig c) {
        proxy_.reset();
        proxy_ = std::make_unique<ProxyHandle>(startProxy(std::move(c)));
        base::writeFile(scratch_->path() / "proxy-ca.pem", proxy_->caCertificatePem());
    }

    std::string proxyUrl() const { return "http://127.0.0.1:" + std::to_string(proxy_->port()); }
    std::string proxyCa() const { return (scratch_->path() / "proxy-ca.pem").string(); }
    std::string https(const std::string& host, const std::string& path) const {
        return "https://" + host + ":" + std::to_string(upstream_->httpsPort()) + path;
    }
    std::string http(const std::string& host, const std::string& path) const {
        return "http://" + host + ":" + std::to_string(upstream_->httpPort()) + path;
    }

    ToolResult curl(std::vector<std::string> args) {
        std::vector<std::string> argv = {"curl",    "-sS",      "--max-time", "20",
                                         "--proxy", proxyUrl(), "--cacert",   proxyCa()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv);
    }
    ToolResult run(const std::vector<std::string>& argv, std::vector<std::string> env = {}) {
        return testing::runTool(argv, env, scratch_->path());
    }

    // The proxy writes an audit record when an exchange ends, which can be just after the client
    // saw the last byte: wait for the expected number of records, then stop the proxy.
    std::vector<AuditRecord> audit(std::size_t expected) {
        {
            std::unique_lock lock(audit_mutex_);
            audit_cv_.wait_for(lock, std::chrono::seconds(10),
                               [&] { return audit_.size() >= expected; });
        }
        proxy_->stop();
        std::lock_guard lock(audit_mutex_);
        return audit_;
    }

    static TestUpstream* upstream_;
    static std::string* skip_reason_;
    std::unique_ptr<base::TempDir> scratch_;
    std::mutex audit_mutex_;
    std::condition_variable audit_cv_;
    std::vector<AuditRecord> audit_;
    std::unique_ptr<ProxyHandle> proxy_;  // last: stopped before the audit vector goes away
};

TestUpstream* ProxyEndToEnd::upstream_ = nullptr;
std::string* ProxyEndToEnd::skip_reason_ = nullptr;

TEST_F(ProxyEndToEnd, CurlHttpsThroughConnectInjectsTokenOnAllowedHost) {
    auto r = curl({"-H", std::string("Authorization: token ") + TestUpstream::kDummyToken,
                   https("api.test", "/whoami")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "host=api.test auth=real xtoken=none method=GET\n");
    auto records = audit(1);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].host, "api.test");
    EXPECT_EQ(records[0].path, "/whoami");
    EXPECT_EQ(records[0].decision, PolicyDecision::kAllow);
    EXPECT_EQ(records[0].status, 200);
    EXPECT_EQ(records[0].credentials, std::vector<std::string>{"forge-token"});
    EXPECT_EQ(records[0].bytes_down, r.out.size());
}

TEST_F(ProxyEndToEnd, DummyIsNeverSwappedOnOtherHostsOrInClearText) {
    std::string header = std::string("X-Token: ") + TestUpstream::kDummyToken;
    auto other = curl({"-H", header, https("other.test", "/whoami")});
    ASSERT_EQ(other.exit_code, 0) << other.err;
    EXPECT_EQ(other.out, "host=other.test auth=none xtoken=dummy method=GET\n");
    // api.test is a credential host, but plain http would expose the real value: no swap.
    auto plain = curl(
        {"-H", header, "http://api.test:" + std::to_string(upstream_->httpPort()) + "/whoami"});
    ASSERT_EQ(plain.exit_code, 0) << plain.err;
    EXPECT_EQ(plain.out, "host=api.test auth=none xtoken=dummy method=GET\n");
    auto records = audit(2);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_TRUE(records[0].credentials.empty());
    EXPECT_TRUE(records[1].credentials.empty());
}

// Some clients (curl --proxytunnel, @actions/http-client's tunnel agent) send plain HTTP inside
// a CONNECT tunnel for http:// URLs: served like an http:// proxy request to the tunnel's target,
// with the same policy and no credential swapped into clear text.
TEST_F(ProxyEndToEnd, PlainHttpInsideAConnectTunnelIsServedAsHttp) {
    std::string header = std::string("X-Token: ") + TestUpstream::kDummyToken;
    auto r = curl({"--proxytunnel", "-H", header, http("api.test", "/whoami"), "--next", "--proxy",
                   proxyUrl(), "--proxytunnel", "-sS", "-i", http("api.test", "/admin/users")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("host=api.test auth=none xtoken=dummy method=GET\n"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("HTTP/1.1 403"), std::string::npos)
        << "the path policy applies: " << r.out;
    auto records = audit(2);  // the requests inside the tunnels (an allowed CONNECT is no record)
    ASSERT_EQ(records.size(), 2u);
    std::vector<std::string> seen;
    for (const auto& rec : records) {
        seen.push_back(rec.method + " " + rec.path + " " + std::to_string(rec.status));
        EXPECT_TRUE(rec.credentials.empty()) << rec.path;
    }
    EXPECT_NE(std::find(seen.begin(), seen.end(), "GET /whoami 200"), seen.end());
    EXPECT_NE(std::find(seen.begin(), seen.end(), "GET /admin/users 403"), seen.end());
}

TEST_F(ProxyEndToEnd, RealTokenNeverReachesTheClient) {
    auto r = curl({"-i", "-H", std::string("X-Token: ") + TestUpstream::kDummyToken,
                   https("api.test", "/leak")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find(TestUpstream::kRealToken), std::string::npos) << r.out;
    // Headers get the dummy back; the body's value, whose dummy is longer, is masked (the same
    // length keeps the framing).
    EXPECT_NE(r.out.find(std::string("X-Leak: ") + TestUpstream::kDummyToken), std::string::npos)
        << r.out;
    EXPECT_NE(
        r.out.find("echo " + std::string(std::strlen(TestUpstream::kRealToken), '*') + " done\n"),
        std::string::npos)
        << r.out;
}

TEST_F(ProxyEndToEnd, HostHeaderMustMatchTheTunnel) {
    // Domain fronting: a tunnel to an allowed host must not carry requests for another one.
    auto r = curl({"-i", "-H", "Host: evil.test", https("api.test", "/whoami")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("HTTP/1.1 400"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("does not match the CONNECT target"), std::string::npos) << r.out;
}

TEST_F(ProxyEndToEnd, DeniedHostGets403NamingTheRule) {
    auto r = curl({"-i", https("evil.test", "/whoami")});
    EXPECT_NE(r.exit_code, 0);  // curl reports the refused tunnel
    EXPECT_NE(r.out.find("403"), std::string::npos)
        << r.out << r.err;  // curl hides the CONNECT body
    auto plain = curl({"-i", http("evil.test", "/whoami")});
    EXPECT_NE(plain.out.find("HTTP/1.1 403"), std::string::npos) << plain.out;
    EXPECT_NE(
        plain.out.find("denied GET evil.test/whoami: job policy: no rule matched (default deny)"),
        std::string::npos)
        << plain.out;
    auto records = audit(2);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].method, "CONNECT");
    EXPECT_EQ(records[0].decision, PolicyDecision::kDeny);
    EXPECT_EQ(records[0].rule, "job policy: no rule matched (default deny)");
    EXPECT_EQ(records[1].status, 403);
}

TEST_F(ProxyEndToEnd, DeniedPathAndMethodGet403) {
    auto path = curl({"-i", https("api.test", "/admin/users")});
    ASSERT_EQ(path.exit_code, 0) << path.err;
    EXPECT_NE(path.out.find("HTTP/1.1 403"), std::string::npos) << path.out;
    EXPECT_NE(path.out.find("deny host 'api.test' path '/admin/.*' (test-policy.yaml:3:5)"),
              std::string::npos)
        << path.out;
    auto method = curl({"-i", "-X", "DELETE", https("api.test", "/whoami")});
    ASSERT_EQ(method.exit_code, 0) << method.err;
    EXPECT_NE(method.out.find("HTTP/1.1 403"), std::string::npos) << method.out;
    EXPECT_NE(method.out.find("no rule matched (default deny)"), std::string::npos) << method.out;
    auto records = audit(2);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[1].method, "DELETE");
    EXPECT_EQ(records[1].decision, PolicyDecision::kDeny);
}

TEST_F(ProxyEndToEnd, EncodedPathsCannotSlipPastADenyRule) {
    for (std::string path :
         {"/%61dmin/users", "/x/../admin/users", "//admin/users", "/admin%2Fusers"}) {
        auto r = curl({"-i", "--path-as-is", https("api.test", path)});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_NE(r.out.find("HTTP/1.1 403"), std::string::npos) << path << "\n" << r.out;
    }
}

TEST_F(ProxyEndToEnd, KeepAliveRequestsShareOneTunnel) {
    auto r = curl({"-w", "%{num_connects}\n", https("api.test", "/whoami"),
                   https("api.test", "/index.html"), https("other.test", "/whoami")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // One tunnel for api.test carries both requests; other.test needs its own.
    EXPECT_NE(r.out.find("\n1\nhello from nginx\n0\nhost=other.test"), std::string::npos) << r.out;
    auto records = audit(3);
    EXPECT_EQ(records.size(), 3u);
}

TEST_F(ProxyEndToEnd, ConcurrentClientsAreServed) {
    std::vector<std::string> args = {"-Z", "--parallel-max", "32", "-w", "%{http_code}\n",
                                     "-o", "/dev/null"};
    for (int i = 0; i < 64; ++i) {
        args.push_back(https(i % 2 ? "api.test" : "other.test", "/index.html"));
        if (i > 0) args.insert(args.end(), {"-o", "/dev/null"});
    }
    auto r = curl(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::size_t ok = 0;
    for (std::size_t pos = r.out.find("200"); pos != std::string::npos;
         pos = r.out.find("200", pos + 1))
        ++ok;
    EXPECT_EQ(ok, 64u) << r.out;
    EXPECT_EQ(audit(64).size(), 64u);
}

TEST_F(ProxyEndToEnd, StreamsLargeBodiesBothWays) {
    // 24 MiB down (Content-Length) and up (chunked PUT), compared byte for byte.
    std::string blob(24 << 20, '\0');
    for (std::size_t i = 0; i < blob.size(); ++i)
        blob[i] = static_cast<char>((i * 131) ^ (i >> 11));
    base::writeFile(upstream_->wwwDir() / "big.bin", blob);
    fs::path down = scratch_->path() / "down.bin";
    auto get = curl({"-o", down.string(), https("api.test", "/big.bin")});
    ASSERT_EQ(get.exit_code, 0) << get.err;
    EXPECT_TRUE(base::readFile(down) == blob);
    auto put = curl({"-T", down.string(), "-H", "Transfer-Encoding: chunked",
                     https("api.test", "/upload/up.bin")});
    ASSERT_EQ(put.exit_code, 0) << put.err;
    EXPECT_TRUE(base::readFile(upstream_->wwwDir() / "upload/up.bin") == blob);
    auto records = audit(2);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].bytes_down, blob.size());
    EXPECT_GT(records[1].bytes_up, blob.size());  // chunk framing included
}

TEST_F(ProxyEndToEnd, AClientLeavingMidDownloadCostsOnlyItsOwnConnection) {
    // A client gone mid-body ends that exchange with an error in its audit record; the proxy
    // (its TLS records written by OpenSSL with write(2), in a process that does not ignore
    // SIGPIPE) goes on serving.
    base::writeFile(upstream_->wwwDir() / "big.bin", std::string(32 << 20, 'x'));
    auto cut = curl({"--limit-rate", "1M", "--max-time", "1", "-o", "/dev/null",
                     https("api.test", "/big.bin")});
    EXPECT_EQ(cut.exit_code, 28) << cut.err;  // curl's own timeout
    auto next = curl({https("api.test", "/whoami")});
    ASSERT_EQ(next.exit_code, 0) << next.err;
    EXPECT_NE(next.out.find("auth="), std::string::npos) << next.out;
    auto records = audit(2);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_LT(records[0].bytes_down, 32u << 20);
    EXPECT_FALSE(records[0].error.empty());
}

// A secret placeholder the admin lets into bodies: uploads to its host carry the real value
// (as it is and percent-encoded; fixed length and chunked), uploads elsewhere keep the
// placeholder, and the real value coming back in a response body turns into the placeholder.
TEST_F(ProxyEndToEnd, ABodySecretIsSwappedInUploadsToItsHostOnlyAndComesBackAsThePlaceholder) {
    ProxyConfig c = defaultConfig();
    c.credentials.clear();
    Credential secret;
    secret.name = "UPLOAD_KEY";
    secret.value = base::Secret(TestUpstream::kRealToken);
    secret.dummy = "REAL-tok-5c2e90d1";  // a placeholder: the value's shape and length
    secret.hosts = {"api.test"};
    secret.in_bodies = true;
    c.credentials.push_back(secret);
    start(std::move(c));
    const std::string body = std::string("{\"key\":\"") + secret.dummy + "\"}\nform=" + secret.dummy + "\n";
    base::writeFile(scratch_->path() / "body.json", body);
    const std::string real_body = std::string("{\"key\":\"") + TestUpstream::kRealToken + "\"}\nform=" +
                                  TestUpstream::kRealToken + "\n";

    auto put = curl({"-T", (scratch_->path() / "body.json").string(), https("api.test", "/upload/fixed.json")});
    ASSERT_EQ(put.exit_code, 0) << put.err;
    EXPECT_EQ(base::readFile(upstream_->wwwDir() / "upload/fixed.json"), real_body);
    auto chunked = curl({"-T", (scratch_->path() / "body.json").string(), "-H", "Transfer-Encoding: chunked",
                         https("api.test", "/upload/chunked.json")});
    ASSERT_EQ(chunked.exit_code, 0) << chunked.err;
    EXPECT_EQ(base::readFile(upstream_->wwwDir() / "upload/chunked.json"), real_body);
    auto elsewhere = curl({"-T", (scratch_->path() / "body.json").string(), https("other.test", "/upload/other.json")});
    ASSERT_EQ(elsewhere.exit_code, 0) << elsewhere.err;
    EXPECT_EQ(base::readFile(upstream_->wwwDir() / "upload/other.json"), body) << "not its host";

    auto echo = curl({https("api.test", "/leak")});
    ASSERT_EQ(echo.exit_code, 0) << echo.err;
    EXPECT_EQ(echo.out, "echo " + secret.dummy + " done\n");

    auto records = audit(4);
    ASSERT_EQ(records.size(), 4u);
    EXPECT_EQ(records[0].credentials, std::vector<std::string>{"UPLOAD_KEY"});
    EXPECT_EQ(records[1].credentials, std::vector<std::string>{"UPLOAD_KEY"});
    EXPECT_TRUE(records[2].credentials.empty());
}

TEST_F(ProxyEndToEnd, PythonUrllibThroughProxy) {
    std::string script = R"(
import ssl, sys, urllib.request
proxy, ca, url, token = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=ca)
opener = urllib.request.build_opener(urllib.request.ProxyHandler({"https": proxy, "http": proxy}),
                                     urllib.request.HTTPSHandler(context=ctx))
req = urllib.request.Request(url, headers={"Authorization": "token " + token})
print(opener.open(req).read().decode(), end="")
)";
    auto r = run({"python3", "-c", script, proxyUrl(), proxyCa(), https("git.test", "/whoami"),
                  TestUpstream::kDummyToken});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "host=git.test auth=real xtoken=none method=GET\n");
}

TEST_F(ProxyEndToEnd, NodeHttpsThroughExplicitConnectTunnel) {
    // Node 20's global fetch ignores HTTP(S)_PROXY, so jobs use a CONNECT tunnel (or an agent).
    std::string script = R"(
const http = require('http'), https = require('https'), tls = require('tls'), fs = require('fs');
const [proxyPort, host, port, path, ca, token] = process.argv.slice(1);
const connect = http.request({host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: `${host}:${port}`});
connect.on('connect', (res, socket) => {
  if (res.statusCode !== 200) { console.log('CONNECT ' + res.statusCode); process.exit(2); }
  const req = https.request({host, port, path, headers: {Authorization: 'token ' + token},
      createConnection: () => tls.connect({socket, servername: host, ca: fs.readFileSync(ca)})}, (r) => {
    let body = ''; r.on('data', (d) => body += d); r.on('end', () => { process.stdout.write(body); process.exit(0); });
  });
  req.on('error', (e) => { console.error(e); process.exit(3); });
  req.end();
});
connect.on('error', (e) => { console.error(e); process.exit(4); });
connect.end();
)";
    auto r = run({"node", "-e", script, std::to_string(proxy_->port()), "api.test",
                  std::to_string(upstream_->httpsPort()), "/whoami", proxyCa(),
                  TestUpstream::kDummyToken});
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    EXPECT_EQ(r.out, "host=api.test auth=real xtoken=none method=GET\n");
}

TEST_F(ProxyEndToEnd, GitCloneWithInjectedTokenBehindBasicAuth) {
    fs::path dest = scratch_->path() / "clone";
    std::string url = "https://x-access-token:" + std::string(TestUpstream::kDummyToken) +
                      "@git.test:" + std::to_string(upstream_->httpsPort()) + "/git/repo.git";
    auto r = run({"git", "-c", "http.proxy=" + proxyUrl(), "-c", "http.sslCAInfo=" + proxyCa(),
                  "clone", "-q", url, dest.string()},
                 {"GIT_TERMINAL_PROMPT=0"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(base::readFile(dest / "README"), "proxied clone works\n");
    // The job's files hold the dummy only.
    ToolResult grep = run({"grep", "-r", "-l", TestUpstream::kRealToken, dest.string()});
    EXPECT_EQ(grep.exit_code, 1) << grep.out;
    auto records = audit(1);
    bool injected = false;
    for (const auto& rec : records) injected = injected || !rec.credentials.empty();
    EXPECT_TRUE(injected);
}

TEST_F(ProxyEndToEnd, GitCloneWithoutTokenIsRefusedByTheServer) {
    fs::path dest = scratch_->path() / "clone";
    std::string url =
        "https://git.test:" + std::to_string(upstream_->httpsPort()) + "/git/repo.git";
    auto r = run({"git", "-c", "http.proxy=" + proxyUrl(), "-c", "http.sslCAInfo=" + proxyCa(),
                  "clone", "-q", url, dest.string()},
                 {"GIT_TERMINAL_PROMPT=0"});
    EXPECT_NE(r.exit_code, 0);
}

TEST_F(ProxyEndToEnd, UntrustedUpstreamCertificateGives502) {
    auto r = curl({"-i", https("badname.test", "/whoami")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("HTTP/1.1 502"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("not trusted"), std::string::npos) << r.out;
}

TEST_F(ProxyEndToEnd, ClientNotTrustingTheProxyCaFailsTheHandshake) {
    auto r = run({"curl", "-sS", "--proxy", proxyUrl(), "--cacert", upstream_->caFile().string(),
                  https("api.test", "/whoami")});
    EXPECT_EQ(r.exit_code, 60) << r.err;  // peer certificate cannot be authenticated
}

// One upstream trust serves the proxies of many jobs at once (the runner loads it once): each
// proxy, on its own io thread, verifies the upstream against it and injects its own credential;
// an upstream the shared trust does not know is still refused.
TEST_F(ProxyEndToEnd, ProxiesSharingOneUpstreamTrustEachVerifyAndInject) {
    auto trust = loadUpstreamTrust(upstream_->caFile());
    std::vector<std::unique_ptr<ProxyHandle>> proxies;
    for (int i = 0; i < 3; ++i) {
        ProxyConfig c = defaultConfig();
        c.extra_upstream_ca_file.clear();  // only the shared trust knows the test CA
        c.upstream_trust = trust;
        proxies.push_back(std::make_unique<ProxyHandle>(startProxy(std::move(c))));
        base::writeFile(scratch_->path() / ("ca-" + std::to_string(i) + ".pem"),
                        proxies.back()->caCertificatePem());
    }
    auto through = [&](int i, const std::string& host) {
        return run({"curl", "-sS", "--max-time", "20", "--proxy",
                    "http://127.0.0.1:" + std::to_string(proxies[i]->port()), "--cacert",
                    (scratch_->path() / ("ca-" + std::to_string(i) + ".pem")).string(), "-H",
                    std::string("Authorization: token ") + TestUpstream::kDummyToken,
                    https(host, "/whoami")});
    };
    std::vector<std::thread> clients;
    std::vector<ToolResult> results(3);
    for (int i = 0; i < 3; ++i) clients.emplace_back([&, i] { results[i] = through(i, "api.test"); });
    for (auto& t : clients) t.join();
    for (const auto& r : results) {
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_NE(r.out.find("auth=real"), std::string::npos) << r.out;
    }
    auto bad = through(0, "badname.test");
    ASSERT_EQ(bad.exit_code, 0) << bad.err;
    EXPECT_NE(bad.out.find("not trusted"), std::string::npos) << bad.out;  // the proxy's 502
}

TEST(UpstreamTrust, AnExtraCaFileThatCannotBeLoadedIsNamed) {
    base::TempDir dir("nixjail-trust-");
    base::writeFile(dir.path() / "not-pem.crt", "hello\n");
    for (const auto& file : {dir.path() / "missing.crt", dir.path() / "not-pem.crt"}) {
        try {
            loadUpstreamTrust(file);
            ADD_FAILURE() << "loaded " << file;
        } catch (const SslError& e) {
            EXPECT_NE(std::string(e.what()).find("cannot load extra upstream CA file '" + file.string() + "'"),
                      std::string::npos) << e.what();
        }
    }
}

}  // namespace
}  // namespace nixjail::proxy
