// Proxy behaviour that needs hand-made peers: timeouts, Upgrade passthrough, malformed input,
// audit-only mode, and listening inside another network namespace.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "proxy/proxy.h"
#include "proxy/test_upstream.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"

namespace nixjail::proxy {
namespace {

using base::UniqueFd;

bool strict() {
    const char* s = std::getenv("NIXJAIL_TESTS_STRICT");
    return s && std::string(s) == "1";
}

UniqueFd listenLoopback(std::uint16_t& port) {
    UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(s.get(), 16) != 0 ||
        ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        throw base::SysError("listen on loopback");
    }
    port = ntohs(a.sin_port);
    return s;
}

// Connects to 127.0.0.1:port with a 10 s receive timeout, so a broken proxy fails the test
// instead of hanging it. Returns an invalid fd when the connection is refused.
UniqueFd connectLoopback(std::uint16_t port) {
    UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    timeval tv{10, 0};
    ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return UniqueFd();
    return s;
}

void sendAll(int fd, const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n <= 0) throw base::SysError("send");
        off += static_cast<std::size_t>(n);
    }
}

// Reads until `marker` has arrived (or EOF / timeout); returns everything read.
std::string readUntil(int fd, const std::string& marker) {
    std::string out;
    char buf[4096];
    while (out.find(marker) == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

std::string readAll(int fd) { return readUntil(fd, std::string(1, '\0') + "never"); }

Policy allowLoopback() {
    auto p =
        parsePolicy("rules:\n  - host: 127.0.0.1\n  - host: silent.test\n", "edge.yaml", "job");
    return std::move(*p);
}

class ProxyEdge : public ::testing::Test {
  protected:
    ProxyConfig baseConfig() {
        ProxyConfig c;
        c.policy = allowLoopback();
        c.allow_host_upstreams = true;  // these tests talk to upstreams on 127.0.0.1 by address
        c.host_overrides["silent.test"] = "127.0.0.1";
        c.audit = [this](const AuditRecord& r) {
            std::lock_guard lock(mutex_);
            records_.push_back(r);
            cv_.notify_all();
        };
        return c;
    }
    // Records are written as exchanges end, possibly just after the client saw the last byte.
    std::vector<AuditRecord> records(std::size_t expected) {
        {
            std::unique_lock lock(mutex_);
            cv_.wait_for(lock, std::chrono::seconds(10),
                         [&] { return records_.size() >= expected; });
        }
        if (proxy_) proxy_->stop();
        std::lock_guard lock(mutex_);
        return records_;
    }
    std::string exchange(const std::string& request) {
        UniqueFd c = connectLoopback(proxy_->port());
        EXPECT_TRUE(c.valid());
        sendAll(c.get(), request);
        return readAll(c.get());
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<AuditRecord> records_;
    std::unique_ptr<ProxyHandle> proxy_;
};

TEST_F(ProxyEdge, SilentUpstreamHitsIdleTimeoutWith504) {
    std::uint16_t port = 0;
    UniqueFd silent = listenLoopback(port);  // the kernel accepts; nobody ever answers
    ProxyConfig c = baseConfig();
    c.timeouts.idle = std::chrono::milliseconds(300);
    proxy_ = std::make_unique<ProxyHandle>(startProxy(std::move(c)));
    std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
    std::string res = exchange("GET " + url + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    EXPECT_TRUE(res.starts_with("HTTP/1.1 504")) << res;
    EXPECT_NE(res.find("idle timeout"), std::string::npos) << res;
    auto r = records(1);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, 504);
}

TEST_F(ProxyEdge, TrickleBeyondTheTotalTimeoutIsCutOff) {
    std::uint16_t port = 0;
    UniqueFd listener = listenLoopback(port);
    std::atomic<bool> cut{false};
    std::thread server([&] {
        UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn) return;
        readUntil(conn.get(), "\r\n\r\n");
        sendAll(conn.get(), "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        // A byte every 50 ms: never idle, but far slower than the total allows. Pacing is the
        // point of this peer, not synchronisation.
        for (int i = 0; i < 1000 && !cut; ++i) {
            if (::send(conn.get(), "x", 1, MSG_NOSIGNAL) != 1) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    });
    ProxyConfig c = baseConfig();
    c.timeouts.total = std::chrono::milliseconds(400);
    proxy_ = std::make_unique<ProxyHandle>(startProxy(std::move(c)));
    std::string host = "127.0.0.1:" + std::to_string(port);
    std::string res = exchange("GET http://" + host + "/ HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    cut = true;
    server.join();
    EXPECT_TRUE(res.starts_with("HTTP/1.1 200")) << res;
    EXPECT_LT(res.size() - res.find("\r\n\r\n") - 4, 1000u);  // cut short
    auto r = records(1);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_NE(r[0].error.find("total timeout"), std::string::npos) << r[0].error;
}

TEST_F(ProxyEdge, RefusedUpstreamGives502) {
    proxy_ = std::make_unique<ProxyHandle>(startProxy(baseConfig()));
    std::string res = exchange("GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    EXPECT_TRUE(res.starts_with("HTTP/1.1 502")) << res;
    EXPECT_NE(res.find("cannot connect to '127.0.0.1:1'"), std::string::npos) << res;
}

// Whatever the policy allows by name, the runner's own host is not an upstream: only its pins
// (host_overrides) reach it, and a pin with a port reaches that port only.
TEST_F(ProxyEdge, TheRunnersHostIsReachableOnlyThroughItsPins) {
    std::uint16_t port = 0, other = 0;
    UniqueFd listener = listenLoopback(port);
    UniqueFd otherListener = listenLoopback(other);
    ProxyConfig c = baseConfig();
    c.allow_host_upstreams = false;  // the default
    c.policy = parsePolicy("rules:\n  - host: localhost\n  - host: 127.0.0.1\n  - host: pinned.test\n", "p.yaml", "job").value();
    c.host_overrides["pinned.test"] = "127.0.0.1:" + std::to_string(port);
    proxy_ = std::make_unique<ProxyHandle>(startProxy(std::move(c)));
    for (const std::string host : {"localhost", "127.0.0.1"}) {
        const std::string target = host + ":" + std::to_string(port);
        std::string res = exchange("GET http://" + target + "/ HTTP/1.1\r\nHost: " + target + "\r\n\r\n");
        EXPECT_TRUE(res.starts_with("HTTP/1.1 502")) << res;
        EXPECT_NE(res.find("a loopback address; a job never reaches the runner's own host"), std::string::npos) << res;
    }
    const std::string wrongPort = "pinned.test:" + std::to_string(other);
    std::string res = exchange("GET http://" + wrongPort + "/ HTTP/1.1\r\nHost: " + wrongPort + "\r\n\r\n");
    EXPECT_TRUE(res.starts_with("HTTP/1.1 502")) << res;
    EXPECT_NE(res.find("serves pinned.test on port " + std::to_string(port) + " only"), std::string::npos) << res;
    std::thread server([&] {
        UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn) return;
        readUntil(conn.get(), "\r\n\r\n");
        sendAll(conn.get(), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    });
    const std::string pinned = "pinned.test:" + std::to_string(port);
    res = exchange("GET http://" + pinned + "/ HTTP/1.1\r\nHost: " + pinned + "\r\nConnection: close\r\n\r\n");
    server.join();
    EXPECT_TRUE(res.starts_with("HTTP/1.1 200")) << res;
}

// Issue 21's DNS tricks: the runner's host in every disguise a resolver accepts (decimal, hex and
// octal IPv4, short forms, the unspecified address, IPv6 loopback and IPv4-mapped, names with a
// trailing dot or in capitals), under a policy that allows any host: each is judged by the address
// it resolves to, and the listener on the runner's loopback hears nothing.
TEST_F(ProxyEdge, DisguisedLoopbackAddressesAreRefusedLikeThePlainOne) {
    std::uint16_t port = 0;
    UniqueFd listener = listenLoopback(port);
    ProxyConfig c = baseConfig();
    c.allow_host_upstreams = false;  // the default, which the other tests here lift
    c.policy = parsePolicy("rules:\n  - host: '*'\n", "p.yaml", "job").value();
    proxy_ = std::make_unique<ProxyHandle>(startProxy(std::move(c)));
    for (const std::string host : {"2130706433", "0x7f000001", "0177.0.0.1", "127.1", "127.0.0.2", "0.0.0.0",
                                   "0", "[::1]", "[::ffff:127.0.0.1]", "[::]", "localhost.", "LOCALHOST",
                                   "ip6-localhost"}) {
        const std::string target = host + ":" + std::to_string(port);
        const std::string res = exchange("GET http://" + target + "/ HTTP/1.1\r\nHost: " + target +
                                         "\r\nConnection: close\r\n\r\n");
        EXPECT_FALSE(res.starts_with("HTTP/1.1 200")) << host << ": " << res;
        EXPECT_TRUE(res.starts_with("HTTP/1.1 502") || res.starts_with("HTTP/1.1 400") ||
                    res.starts_with("HTTP/1.1 403"))
            << host << ": " << res;
    }
    ::fcntl(listener.get(), F_SETFL, O_NONBLOCK);
    UniqueFd accepted(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    EXPECT_FALSE(accepted.valid()) << "a disguised address reached the runner's host";
}

TEST_F(ProxyEdge, UpstreamTlsHandshakeHitsConnectTimeoutWith504) {
    std::uint16_t port = 0;
    UniqueFd silent = listenLoopback(port);  // TCP connects, TLS never answers
    ProxyConfig c = baseConfig();
    c.timeouts.connect = std::chrono::milliseconds(300);
    proxy_ = std::make_unique<ProxyHandle>(startProxy(std::move(c)));
    base::TempDir scratch("nixjail-proxy-edge-");
    base::writeFile(scratch.path() / "ca.pem", proxy_->caCertificatePem());
    auto r = testing::runTool(
        {"curl", "-sS", "-i", "--max-time", "20", "--proxy",
         "http://127.0.0.1:" + std::to_string(proxy_->port()), "--cacert",
         (scratch.path() / "ca.pem").string(), "https://silent.test:" + std::to_string(port) + "/"},
        {}, scratch.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("HTTP/1.1 504"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("(connect timeout)"), std::string::npos) << r.out;
}

TEST_F(ProxyEdge, StoppingWithExchangesInFlightClosesThem) {
    std::uint16_t port = 0;
    UniqueFd silent = listenLoopback(port);
    proxy_ = std::make_unique<ProxyHandle>(startProxy(baseConfig()));
    std::vector<UniqueFd> clients;
    for (int i = 0; i < 4; ++i) {
        clients.push_back(connectLoopback(proxy_->port()));
        ASSERT_TRUE(clients.back().valid());
        sendAll(clients.back().get(),
                "GET http://127.0.0.1:" + std::to_string(port) + "/ HTTP/1.1\r\n\r\n");
    }
    std::vector<UniqueFd> upstream_side;  // accepted, never answered: each exchange waits upstream
    for (int i = 0; i < 4; ++i)
        upstream_side.emplace_back(::accept4(silent.get(), nullptr, nullptr, SOCK_CLOEXEC));
    // Destroying the handle ends every exchange; each is still audited, as broken (status 0).
    proxy_.reset();
    for (auto& c : clients) EXPECT_EQ(readAll(c.get()), "");  // EOF, not a hang
    std::lock_guard lock(mutex_);
    ASSERT_EQ(records_.size(), 4u);
    EXPECT_EQ(records_[0].status, 0);
}

TEST_F(ProxyEdge, MalformedAndOversizedRequestsAreRefused) {
    proxy_ = std::make_unique<ProxyHandle>(startProxy(baseConfig()));
    EXPECT_TRUE(
        exchange("GET http://127.0.0.1/ HTTP/1.1\r\n folded\r\n\r\n").starts_with("HTTP/1.1 400"));
    EXPECT_TRUE(exchange("GET /relative HTTP/1.1\r\nHost: a\r\n\r\n").starts_with("HTTP/1.1 400"));
    EXPECT_TRUE(exchange("POST http://127.0.0.1:1/ HTTP/1.1\r\nContent-Length: "
                         "1\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .starts_with("HTTP/1.1 400"));
    std::string huge =
        "GET http://127.0.0.1/ HTTP/1.1\r\nX: " + std::string(70000, 'a') + "\r\n\r\n";
    EXPECT_TRUE(exchange(huge).starts_with("HTTP/1.1 431"));
}

TEST_F(ProxyEdge, UpgradedConnectionsArePassedThrough) {
    std::uint16_t port = 0;
    UniqueFd listener = listenLoopback(port);
    std::thread server([&] {
        UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn) return;
        std::string head = readUntil(conn.get(), "\r\n\r\n");
        if (head.find("Upgrade: echo") == std::string::npos) return;
        sendAll(conn.get(),
                "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
        char buf[1024];
        while (true) {
            ssize_t n = ::recv(conn.get(), buf, sizeof buf, 0);
            if (n <= 0) break;
            sendAll(conn.get(), std::string(buf, static_cast<std::size_t>(n)));
        }
    });
    proxy_ = std::make_unique<ProxyHandle>(startProxy(baseConfig()));
    UniqueFd c = connectLoopback(proxy_->port());
    ASSERT_TRUE(c.valid());
    std::string host = "127.0.0.1:" + std::to_string(port);
    sendAll(c.get(), "GET http://" + host + "/ws HTTP/1.1\r\nHost: " + host +
                         "\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
    std::string res = readUntil(c.get(), "\r\n\r\n");
    EXPECT_TRUE(res.starts_with("HTTP/1.1 101")) << res;
    sendAll(c.get(), "ping-over-upgrade");
    EXPECT_EQ(readUntil(c.get(), "upgrade"), "ping-over-upgrade");
    c.reset();  // client closes: the proxy closes upstream, the echo server sees EOF
    server.join();
    auto r = records(1);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, 101);
    EXPECT_EQ(r[0].bytes_up, 17u);
    EXPECT_EQ(r[0].bytes_down, 17u);
}

TEST_F(ProxyEdge, ReusedUpstreamClosedByTheServerIsRetriedOnce) {
    std::uint16_t port = 0;
    UniqueFd listener = listenLoopback(port);
    std::promise<void> first_closed;
    std::thread server([&] {
        for (int i = 0; i < 2; ++i) {
            UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (!conn) return;
            readUntil(conn.get(), "\r\n\r\n");
            std::string body = "answer " + std::to_string(i);
            // Keep-alive promised, then the server closes anyway (as at a keep-alive timeout).
            sendAll(conn.get(), "HTTP/1.1 200 OK\r\nContent-Length: " +
                                    std::to_string(body.size()) + "\r\n\r\n" + body);
            if (i == 0) {
                conn.reset();
                first_closed.set_value();
            } else {
                readAll(conn.get());
            }
        }
    });
    proxy_ = std::make_unique<ProxyHandle>(startProxy(baseConfig()));
    UniqueFd c = connectLoopback(proxy_->port());
    ASSERT_TRUE(c.valid());
    std::string req =
        "GET http://127.0.0.1:" + std::to_string(port) + "/ HTTP/1.1\r\nHost: x\r\n\r\n";
    sendAll(c.get(), req);
    EXPECT_NE(readUntil(c.get(), "answer 0").find("answer 0"), std::string::npos);
    first_closed.get_future().wait();
    sendAll(c.get(), req);
    std::string second = readUntil(c.get(), "answer 1");
    EXPECT_TRUE(second.starts_with("HTTP/1.1 200")) << second;
    c.reset();
    proxy_.reset();
    server.join();
}

TEST_F(ProxyEdge, AuditOnlyModeLetsDeniedRequestsThroughAndRecordsThem) {
    std::uint16_t port = 0;
    UniqueFd listener = listenLoopback(port);
    std::thread server([&] {
        UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn) return;
        readUntil(conn.get(), "\r\n\r\n");
        sendAll(conn.get(), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    });
    ProxyConfig c = baseConfig();
    c.policy = Policy();  // denies everything
    c.audit_only = true;
    proxy_ = std::make_unique<ProxyHandle>(startProxy(std::move(c)));
    std::string host = "127.0.0.1:" + std::to_string(port);
    std::string res = exchange("GET http://" + host + "/x HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    server.join();
    EXPECT_TRUE(res.starts_with("HTTP/1.1 200")) << res;
    auto r = records(1);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].decision, PolicyDecision::kDeny);
    EXPECT_FALSE(r[0].enforced);
    EXPECT_EQ(r[0].path, "/x");
}

TEST_F(ProxyEdge, StartRefusesUnsafeCredentialsAndBadAddresses) {
    ProxyConfig c = baseConfig();
    Credential cred;
    cred.name = "short";
    cred.value = base::Secret("real-value-1234");
    cred.hosts = {"a.test"};
    cred.dummy = "abc";
    c.credentials.push_back(cred);
    EXPECT_THROW(startProxy(std::move(c)), base::Error);
    ProxyConfig bad = baseConfig();
    bad.listen_address = "not-an-ip";
    EXPECT_THROW(startProxy(std::move(bad)), base::SysError);
}

// A network namespace made by a helper thread, with its loopback up. Owns the namespace fd; the
// namespace disappears when the fd and every socket in it are closed.
struct TestNetns {
    UniqueFd fd;
    int err = 0;
};

TestNetns makeNetns() {
    TestNetns ns;
    std::thread t([&] {
        if (::unshare(CLONE_NEWNET) != 0) {
            ns.err = errno;
            return;
        }
        ns.fd.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
        UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        ifreq ifr{};
        std::strcpy(ifr.ifr_name, "lo");
        ifr.ifr_flags = IFF_UP | IFF_RUNNING;
        if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) ns.err = errno;
    });
    t.join();
    return ns;
}

TEST_F(ProxyEdge, ListensInsideTheJobsNetworkNamespace) {
    TestNetns ns = makeNetns();
    if (ns.err != 0 || !ns.fd) {
        std::string why = std::string("needs CAP_SYS_ADMIN: unshare(CLONE_NEWNET) failed: ") +
                          std::strerror(ns.err);
        if (strict()) FAIL() << why;
        GTEST_SKIP() << why;
    }
    ProxyConfig c = baseConfig();
    c.policy = Policy();
    c.listen_netns_fd = ns.fd.get();
    proxy_ = std::make_unique<ProxyHandle>(startProxy(std::move(c)));
    std::string inside;
    std::thread job([&] {
        if (::setns(ns.fd.get(), CLONE_NEWNET) != 0) return;
        UniqueFd s = connectLoopback(proxy_->port());
        if (!s) return;
        sendAll(s.get(), "GET http://example.test/ HTTP/1.1\r\nHost: example.test\r\n\r\n");
        inside = readAll(s.get());
    });
    job.join();
    EXPECT_TRUE(inside.starts_with("HTTP/1.1 403")) << inside;
    // The host namespace has no such listener (a stranger could hold the port, but not our proxy).
    UniqueFd outside = connectLoopback(proxy_->port());
    if (outside) {
        sendAll(outside.get(), "GET http://example.test/ HTTP/1.1\r\nHost: example.test\r\n\r\n");
        EXPECT_EQ(readAll(outside.get()).find("nixjail proxy"), std::string::npos);
    }
}

}  // namespace
}  // namespace nixjail::proxy
