// Request smuggling through the job's proxy, from inside the job's network (runner/network/
// JobNetwork, proxy/): requests pipelined behind a CONNECT, a tunnel switched to another Host,
// CL.TE / TE.CL / duplicate Content-Length framing that hides a second request, and Host headers
// or TLS SNI that disagree with the URL or the CONNECT authority. The policy allows one host
// (allowed.test, but not its /admin/ paths) and denies the other (denied.test); both names are
// pinned to one recording upstream, which therefore sees every request that got through, hidden
// ones included. Each attack must fail for its stated reason, and the upstream must never have
// seen denied.test or an /admin/ path.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "executor/namespace/namespace_executor.h"
#include "executor/namespace/test_root.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/network/job_network.h"
#include "tests/integration/require.h"
#include "tests/security/attack_backend.h"
#include "tests/security/jail_in_job_network.h"
#include "tests/security/recording_upstream.h"

namespace nixjail::executor {
namespace {

namespace fs = std::filesystem;

// A raw HTTP client for the jail: connects to the proxy and runs its ops in order.
// send:FILE writes the file's bytes in one write; head reads until a blank line; tls:NAME starts
// TLS with SNI NAME (no verification) and prints the names in the certificate it got; rest reads
// to the end. Prints everything it read.
constexpr const char* kRawClient = R"PY(
import socket, ssl, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
out = b""
def read_until(marker):
    buf = b""
    while marker not in buf:
        d = s.recv(65536)
        if not d: break
        buf += d
    return buf
for op in sys.argv[2:]:
    kind, _, arg = op.partition(":")
    if kind == "send":
        s.sendall(open(arg, "rb").read())
    elif kind == "head":
        out += read_until(b"\r\n\r\n")
    elif kind == "tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s, server_hostname=arg)
        open("/workspace/peer.pem", "w").write(ssl.DER_cert_to_PEM_cert(s.getpeercert(True)))
        names = ssl._ssl._test_decode_cert("/workspace/peer.pem").get("subjectAltName", ())
        out += ("CERT-NAMES=[%s]\n" % ",".join(v for k, v in names)).encode()
    elif kind == "rest":
        try:
            while True:
                d = s.recv(65536)
                if not d: break
                out += d
        except Exception as e:
            out += ("\nREAD-ENDED: %s" % e).encode()
sys.stdout.write(out.decode("latin-1"))
)PY";

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
    for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size())
        text.replace(at, from.size(), to);
    return text;
}

class ProxySmugglingAttack : public ::testing::Test {
  protected:
    void SetUp() override {
        NIXJAIL_REQUIRE_ATTACK_BACKEND();
        NIXJAIL_REQUIRE(::access("/usr/bin/python3", X_OK) == 0, "needs /usr/bin/python3 (apt-get install python3)");
        runner::network::NetworkSettings settings;
        auto policy = proxy::parsePolicy(
            "rules:\n"
            "  - host: allowed.test\n"
            "    path: \"^/admin/.*\"\n"
            "    action: deny\n"
            "  - host: allowed.test\n",
            "smuggling.yaml", "admin");
        ASSERT_TRUE(policy);
        settings.admin_policy = std::move(*policy);
        const std::string pin = "127.0.0.1:" + port();
        settings.host_overrides = {{"allowed.test", pin}, {"denied.test", pin}};
        job_ = std::make_unique<testing::JailInJobNetwork>(ns_, settings, "smuggle", dir_.path());
        network_ = &job_->network();
        base::writeFile(job_->workspace() / "raw.py", kRawClient);
    }

    std::string port() const { return std::to_string(upstream_.port()); }

    // Runs the raw client in the job's jail: each "send:" op names the bytes to send (with {P}
    // standing for the upstream's port), written to a file of the workspace first.
    std::string attack(const std::vector<std::string>& ops) {
        std::string command = "python3 /workspace/raw.py " + std::to_string(network_->proxyPort());
        for (const auto& op : ops) {
            if (op.starts_with("send:")) {
                const std::string file = "payload-" + std::to_string(++payloads_);
                base::writeFile(job_->workspace() / file, replaceAll(op.substr(5), "{P}", port()));
                ::chmod((job_->workspace() / file).c_str(), 0644);
                command += " send:/workspace/" + file;
            } else {
                command += " " + op;
            }
        }
        return job_->sh(command, {"PATH=/usr/bin:/bin", "HOME=/workspace"});
    }

    // What the upstream saw must never include the denied host or an /admin/ path.
    void expectNothingDeniedGotThrough() {
        for (const auto& r : upstream_.requests()) {
            EXPECT_EQ(r.host.find("denied"), std::string::npos) << r.head;
            EXPECT_EQ(r.target.find("denied"), std::string::npos) << r.head;
            EXPECT_EQ(r.target.find("/admin"), std::string::npos) << r.head;
        }
    }

    security_testing::RecordingUpstream upstream_;
    base::TempDir dir_{"nixjail-security-smuggle-"};
    NamespaceExecutor ns_;
    std::unique_ptr<testing::JailInJobNetwork> job_;
    runner::network::JobNetwork* network_ = nullptr;
    int payloads_ = 0;
};

constexpr const char* kConnect =
    "CONNECT allowed.test:{P} HTTP/1.1\r\nHost: allowed.test:{P}\r\n\r\n";

TEST_F(ProxySmugglingAttack, RequestsBehindAConnectNeverReachAnotherHost) {
    // The control: the allowed host through a tunnel works, so the refusals below are real ones.
    auto ok = attack(
        {std::string("send:") + kConnect, "head",
         "send:GET /ok HTTP/1.1\r\nHost: allowed.test:{P}\r\nConnection: close\r\n\r\n", "rest"});
    EXPECT_NE(ok.find("HTTP/1.1 200 Connection established"), std::string::npos) << ok;
    EXPECT_NE(ok.find("upstream"), std::string::npos) << ok;

    // (a) A request to the denied host pipelined behind the CONNECT, in the same write.
    auto pipelined = attack({std::string("send:") + kConnect +
                                 "GET http://denied.test:{P}/ HTTP/1.1\r\nHost: denied.test:{P}\r\n"
                                 "Connection: close\r\n\r\n",
                             "rest"});
    EXPECT_NE(pipelined.find("HTTP/1.1 400"), std::string::npos) << pipelined;
    EXPECT_TRUE(pipelined.find("data sent before the CONNECT tunnel was established") !=
                    std::string::npos ||
                pipelined.find("request target does not match the CONNECT tunnel") !=
                    std::string::npos)
        << pipelined;

    // Through an established tunnel: another Host header, another absolute URL, another CONNECT.
    auto host = attack({std::string("send:") + kConnect, "head",
                        "send:GET / HTTP/1.1\r\nHost: denied.test:{P}\r\nConnection: close\r\n\r\n",
                        "rest"});
    EXPECT_NE(host.find("HTTP/1.1 400"), std::string::npos) << host;
    EXPECT_NE(host.find("Host header 'denied.test:" + port() +
                        "' does not match the CONNECT target 'allowed.test'"),
              std::string::npos)
        << host;
    auto absolute = attack(
        {std::string("send:") + kConnect, "head",
         "send:GET http://denied.test:{P}/ HTTP/1.1\r\nHost: allowed.test:{P}\r\n\r\n", "rest"});
    EXPECT_NE(absolute.find("HTTP/1.1 400"), std::string::npos) << absolute;
    EXPECT_NE(absolute.find("request target does not match the CONNECT tunnel"), std::string::npos)
        << absolute;
    auto nested =
        attack({std::string("send:") + kConnect, "head",
                "send:CONNECT denied.test:{P} HTTP/1.1\r\nHost: denied.test:{P}\r\n\r\n", "rest"});
    EXPECT_NE(nested.find("HTTP/1.1 400"), std::string::npos) << nested;
    EXPECT_NE(nested.find("CONNECT inside a CONNECT tunnel"), std::string::npos) << nested;
    // An allowed request and a switched one in one write on a kept-alive tunnel: the first is
    // served, the second refused.
    auto keepAlive = attack({std::string("send:") + kConnect, "head",
                             "send:GET /ok HTTP/1.1\r\nHost: allowed.test:{P}\r\n\r\n"
                             "GET / HTTP/1.1\r\nHost: denied.test:{P}\r\nConnection: close\r\n\r\n",
                             "rest"});
    EXPECT_NE(keepAlive.find("upstream"), std::string::npos) << keepAlive;
    EXPECT_NE(keepAlive.find("HTTP/1.1 400"), std::string::npos) << keepAlive;
    EXPECT_NE(keepAlive.find("does not match the CONNECT target"), std::string::npos) << keepAlive;

    expectNothingDeniedGotThrough();
    EXPECT_EQ(upstream_.rawBytes().find("denied.test"), std::string::npos) << upstream_.rawBytes();
    EXPECT_EQ(upstream_.requests().size(), 2u);  // the control and the kept-alive tunnel's first
}

TEST_F(ProxySmugglingAttack, AmbiguousBodyFramingIsRefusedAndHiddenRequestsAreJudgedAlone) {
    const std::string hidden =
        "GET http://denied.test:{P}/ HTTP/1.1\r\nHost: denied.test:{P}\r\n\r\n";
    const std::string body = "0\r\n\r\n" + hidden;
    const std::string cl =
        "Content-Length: " + std::to_string(replaceAll(body, "{P}", port()).size());
    const std::string post =
        "POST http://allowed.test:{P}/ok HTTP/1.1\r\nHost: allowed.test:{P}\r\n";
    struct Case {
        const char* name;
        std::string request;
        const char* why;
    };
    const std::vector<Case> refused{
        {"CL.TE", post + cl + "\r\nTransfer-Encoding: chunked\r\n\r\n" + body,
         "both Transfer-Encoding and Content-Length"},
        {"TE.CL", post + "Transfer-Encoding: chunked\r\n" + cl + "\r\n\r\n" + body,
         "both Transfer-Encoding and Content-Length"},
        {"TE obfuscated", post + cl + "\r\nTransfer-Encoding: xchunked\r\n\r\n" + body,
         "both Transfer-Encoding and Content-Length"},
        {"TE with a space before the colon",
         post + cl + "\r\nTransfer-Encoding : chunked\r\n\r\n" + body,
         "invalid header name 'Transfer-Encoding '"},
        {"TE not last chunked", post + "Transfer-Encoding: chunked, identity\r\n\r\n" + body,
         "request Transfer-Encoding is not chunked"},
        {"duplicate TE",
         post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + body,
         "repeated Transfer-Encoding header"},
        {"duplicate Content-Length", post + "Content-Length: 5\r\n" + cl + "\r\n\r\n" + body,
         "conflicting Content-Length"},
        {"Content-Length list", post + "Content-Length: 5, 60\r\n\r\n" + body,
         "invalid Content-Length '5, 60'"},
        {"chunk size overflow",
         post + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n" + hidden,
         "request body"},
    };
    for (const auto& c : refused) {
        auto out = attack({"send:" + c.request, "rest"});
        EXPECT_NE(out.find("HTTP/1.1 400"), std::string::npos) << c.name << ": " << out;
        EXPECT_NE(out.find(c.why), std::string::npos) << c.name << ": " << out;
    }
    // The same inside a plain CONNECT tunnel.
    auto tunneled = attack({std::string("send:") + kConnect, "head",
                            "send:POST /ok HTTP/1.1\r\nHost: allowed.test:{P}\r\n" + cl +
                                "\r\nTransfer-Encoding: chunked\r\n\r\n" + body,
                            "rest"});
    EXPECT_NE(tunneled.find("HTTP/1.1 400"), std::string::npos) << tunneled;
    EXPECT_NE(tunneled.find("both Transfer-Encoding and Content-Length"), std::string::npos)
        << tunneled;
    // Unambiguous chunked framing: the request after the last chunk is a request of its own, and
    // the policy judges it as one.
    auto tail = attack({"send:" + post + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" +
                            "GET http://denied.test:{P}/ HTTP/1.1\r\nHost: denied.test:{P}\r\n"
                            "Connection: close\r\n\r\n",
                        "rest"});
    EXPECT_NE(tail.find("upstream"), std::string::npos) << tail;
    EXPECT_NE(tail.find("HTTP/1.1 403"), std::string::npos) << tail;
    EXPECT_NE(tail.find("nixjail proxy denied GET denied.test/"), std::string::npos) << tail;
    // A request for a denied path as the body of an allowed one stays a body: the upstream reads
    // it as data, never as a request.
    const std::string admin = "GET /admin/secret HTTP/1.1\r\nHost: allowed.test:{P}\r\n\r\n";
    auto asBody =
        attack({"send:" + post + "Connection: close\r\nContent-Length: " +
                    std::to_string(replaceAll(admin, "{P}", port()).size()) + "\r\n\r\n" + admin,
                "rest"});
    EXPECT_NE(asBody.find("HTTP/1.1 200 OK"), std::string::npos) << asBody;

    expectNothingDeniedGotThrough();
    ASSERT_EQ(upstream_.requests().size(), 2u);  // the chunked POST and the one with the body
    for (const auto& r : upstream_.requests()) EXPECT_EQ(r.target, "/ok") << r.head;
    network_->stop();
    for (const auto& r : network_->takeAuditRecords()) {
        if (r.host == "denied.test") {
            EXPECT_EQ(r.decision, proxy::PolicyDecision::kDeny);
        }
    }
}

TEST_F(ProxySmugglingAttack, HostHeaderAndSniNeverOverrideTheUrlOrTheConnectTarget) {
    // (c) The Host header is replaced by the URL's authority on the way out.
    auto swapped =
        attack({"send:GET http://allowed.test:{P}/ok HTTP/1.1\r\nHost: denied.test:{P}\r\n"
                "Connection: close\r\n\r\n",
                "rest"});
    EXPECT_NE(swapped.find("upstream"), std::string::npos) << swapped;
    ASSERT_EQ(upstream_.requests().size(), 1u);
    EXPECT_EQ(upstream_.requests()[0].host, "allowed.test:" + port());
    // The policy judges the URL, whatever the Host header claims.
    auto claimed = attack(
        {"send:GET http://denied.test:{P}/ HTTP/1.1\r\nHost: allowed.test:{P}\r\n\r\n", "rest"});
    EXPECT_NE(claimed.find("HTTP/1.1 403"), std::string::npos) << claimed;
    EXPECT_NE(claimed.find("nixjail proxy denied GET denied.test/"), std::string::npos) << claimed;
    auto connect =
        attack({"send:CONNECT denied.test:{P} HTTP/1.1\r\nHost: allowed.test:{P}\r\n\r\n", "rest"});
    EXPECT_NE(connect.find("HTTP/1.1 403"), std::string::npos) << connect;
    EXPECT_NE(connect.find("nixjail proxy denied CONNECT to 'denied.test'"), std::string::npos)
        << connect;
    // TLS naming the denied host (SNI) inside a tunnel to the allowed one: the proxy's certificate
    // names the CONNECT target, not the SNI, and a Host header following the SNI is refused.
    auto sni = attack({std::string("send:") + kConnect, "head", "tls:denied.test",
                       "send:GET / HTTP/1.1\r\nHost: denied.test:{P}\r\nConnection: close\r\n\r\n",
                       "rest"});
    EXPECT_NE(sni.find("CERT-NAMES=[allowed.test]"), std::string::npos) << sni;
    EXPECT_NE(sni.find("HTTP/1.1 400"), std::string::npos) << sni;
    EXPECT_NE(sni.find("does not match the CONNECT target 'allowed.test'"), std::string::npos)
        << sni;

    expectNothingDeniedGotThrough();
    EXPECT_EQ(upstream_.requests().size(), 1u);
    EXPECT_EQ(upstream_.rawBytes().find("denied.test"), std::string::npos) << upstream_.rawBytes();
}

}  // namespace
}  // namespace nixjail::executor
