// JobNetwork: the namespace holds only loopback, the proxy listens inside it, host listeners stay
// unreachable by every address, and nothing is left behind. Needs root (CAP_SYS_ADMIN).
#include "runner/network/job_network.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <thread>

#include "runner/base/file_io.h"
#include "runner/network/anonymous_netns.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"
#include "tests/integration/require.h"
#include "tests/support/host_addresses.h"

namespace nixjail::runner::network {
namespace {

namespace fs = std::filesystem;


// Runs `fn` on a thread that has joined `netns_fd` (and dies there).
template <class Fn>
void insideNetns(int netns_fd, Fn fn) {
    std::thread([&] {
        ASSERT_EQ(::setns(netns_fd, CLONE_NEWNET), 0) << std::strerror(errno);
        fn();
    }).join();
}

// Connects to addr:port; returns the connected socket or an invalid one with errno set.
base::UniqueFd connectTo(const std::string& addr, std::uint16_t port) {
    base::UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, addr.c_str(), &a.sin_addr);
    timeval tv{2, 0};
    ::setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return {};
    return s;
}

size_t countEntries(const char* dir) {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
    return n;
}

class JobNetworkTest : public ::testing::Test {
  protected:
    void SetUp() override { NIXJAIL_REQUIRE(::geteuid() == 0, "needs root to create network namespaces"); }

    std::unique_ptr<JobNetwork> make(NetworkSettings settings = {}) {
        return std::make_unique<JobNetwork>(settings,
                                            JobNetworkSpec{.job_id = "test",
                                                           .forge_hosts = {"git.test"},
                                                           .ca_dir_host = dir_.path() / "network",
                                                           .ca_dir_jail = "/runner/network"});
    }

    base::TempDir dir_{"nixjail-network-test-"};
};

TEST_F(JobNetworkTest, NamespaceHasOnlyLoopbackAndItIsUp) {
    auto net = make();
    std::vector<std::string> names;
    bool loUp = false;
    insideNetns(net->netnsFd(), [&] {
        ifaddrs* list = nullptr;
        ASSERT_EQ(::getifaddrs(&list), 0);
        for (auto* i = list; i; i = i->ifa_next) {
            if (std::find(names.begin(), names.end(), i->ifa_name) == names.end())
                names.push_back(i->ifa_name);
            if (std::string(i->ifa_name) == "lo" && (i->ifa_flags & IFF_UP)) loUp = true;
        }
        ::freeifaddrs(list);
    });
    EXPECT_EQ(names, std::vector<std::string>{"lo"});
    EXPECT_TRUE(loUp);
}

TEST_F(JobNetworkTest, ProxyAnswersInsideAndDeniesByDefaultWithTheRule) {
    auto net = make();
    std::string reply;
    insideNetns(net->netnsFd(), [&] {
        auto s = connectTo("127.0.0.1", net->proxyPort());
        ASSERT_TRUE(s.valid()) << std::strerror(errno);
        const std::string req =
            "GET http://evil.test/x HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n";
        ASSERT_EQ(::write(s.get(), req.data(), req.size()), static_cast<ssize_t>(req.size()));
        char buf[4096];
        ssize_t n;
        while ((n = ::read(s.get(), buf, sizeof buf)) > 0)
            reply.append(buf, static_cast<size_t>(n));
    });
    EXPECT_TRUE(reply.starts_with("HTTP/1.1 403")) << reply;
    net->stop();
    auto records = net->takeAuditRecords();
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].decision, proxy::PolicyDecision::kDeny);
    EXPECT_EQ(describeAudit(records[0]),
              "denied GET http://evil.test/x (rule: runner policy: no rule matched (default deny)) "
              "-> 403");
    EXPECT_TRUE(net->takeAuditRecords().empty());
    // The proxy is not reachable from the host's namespace on that port.
    EXPECT_FALSE(connectTo("127.0.0.1", net->proxyPort()).valid());
}

TEST_F(JobNetworkTest, HostListenerOnAnyAddressIsUnreachableFromInside) {
    base::UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_in any{};
    any.sin_family = AF_INET;
    socklen_t len = sizeof any;
    ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&any), len), 0);
    ASSERT_EQ(::listen(listener.get(), 8), 0);
    ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&any), &len), 0);
    const auto port = ntohs(any.sin_port);
    auto addresses = nixjail::tests::hostIPv4Addresses();
    ASSERT_FALSE(addresses.empty());
    // Sanity: from the host it is reachable.
    ASSERT_TRUE(connectTo("127.0.0.1", port).valid());
    while (::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC) >= 0) {
    }

    auto net = make();
    for (const auto& addr : addresses) {
        int err = 0;
        bool connected = true;
        insideNetns(net->netnsFd(), [&] {
            connected = connectTo(addr, port).valid();
            err = errno;
        });
        EXPECT_FALSE(connected) << addr;
        EXPECT_TRUE(err == ECONNREFUSED || err == ENETUNREACH || err == EHOSTUNREACH)
            << addr << ": " << std::strerror(err);
    }
    EXPECT_LT(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC), 0);
}

TEST_F(JobNetworkTest, APinnedLoopbackNameGoesThroughTheProxy) {
    NetworkSettings settings;
    settings.host_overrides["127.0.0.1"] = "127.0.0.1:3000";  // a forge on the runner's host
    auto net = make(settings);
    for (const auto& [key, value] : net->environment()) {
        if (key == "NO_PROXY" || key == "no_proxy") {
            EXPECT_EQ(value, "localhost") << key;
        }
    }
}

TEST_F(JobNetworkTest, EnvironmentPointsAtTheProxyAndTheCaFile) {
    NetworkSettings settings;
    proxy::Credential c;
    c.name = "npm";
    c.value = base::Secret("real-npm-token");
    c.hosts = {"registry.test"};
    c.header_template = "Authorization: Bearer {token}";
    c.dummy = "npm-dummy-1234";
    settings.credentials.push_back(c);
    auto net = make(settings);
    auto env = net->environment();
    auto get = [&](const std::string& k) {
        for (const auto& [key, v] : env)
            if (key == k) return v;
        return std::string("<unset>");
    };
    const std::string url = "http://127.0.0.1:" + std::to_string(net->proxyPort());
    for (const char* k : {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"})
        EXPECT_EQ(get(k), url) << k;
    EXPECT_EQ(get("NO_PROXY"), "localhost,127.0.0.1");
    for (const char* k : {"SSL_CERT_FILE", "NIX_SSL_CERT_FILE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO",
                          "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"}) {
        EXPECT_EQ(get(k), "/runner/network/ca.pem") << k;
    }
    const auto ca = dir_.path() / "network/ca.pem";
    EXPECT_TRUE(base::readFile(ca).starts_with("-----BEGIN CERTIFICATE-----"));
    EXPECT_EQ(base::readFile(ca).find("PRIVATE KEY"), std::string::npos);
    struct stat st {};
    ASSERT_EQ(::stat(ca.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);
    EXPECT_EQ(net->credentialDummies(),
              (std::map<std::string, std::string>{{"npm", "npm-dummy-1234"}}));
}

TEST_F(JobNetworkTest, NothingIsLeftAfterDestruction) {
    const size_t fds = countEntries("/proc/self/fd");
    const size_t threads = countEntries("/proc/self/task");
    ino_t ino = 0;
    {
        auto net = make();
        struct stat st {};
        ASSERT_EQ(::fstat(net->netnsFd(), &st), 0);
        ino = st.st_ino;
        EXPECT_GT(countEntries("/proc/self/fd"), fds);
    }
    EXPECT_EQ(countEntries("/proc/self/fd"), fds);
    EXPECT_EQ(countEntries("/proc/self/task"), threads);
    // No fd and no thread of ours refers to the namespace any more, and it has no name.
    const std::string link = "net:[" + std::to_string(ino) + "]";
    for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        EXPECT_NE(fs::read_symlink(e.path(), ec).string(), link);
    }
    for (const auto& t : fs::directory_iterator("/proc/self/task")) {
        std::error_code ec;
        EXPECT_NE(fs::read_symlink(t.path() / "ns/net", ec).string(), link);
    }
}

// A namespace made ahead (while the job's directories are made) is the one the job gets: its proxy
// listens there, and it is released with the network.
TEST_F(JobNetworkTest, ANamespaceMadeAheadIsTheJobsAndGoesWithIt) {
    auto ahead = createAnonymousNetns();
    struct stat made {};
    ASSERT_EQ(::fstat(ahead.get(), &made), 0);
    const size_t fds = countEntries("/proc/self/fd");
    {
        JobNetwork net({}, JobNetworkSpec{.job_id = "test",
                                          .ca_dir_host = dir_.path() / "network",
                                          .ca_dir_jail = "/runner/network",
                                          .netns = std::move(ahead)});
        struct stat used {};
        ASSERT_EQ(::fstat(net.netnsFd(), &used), 0);
        EXPECT_EQ(used.st_ino, made.st_ino);
        bool answered = false;
        insideNetns(net.netnsFd(), [&] { answered = connectTo("127.0.0.1", net.proxyPort()).valid(); });
        EXPECT_TRUE(answered) << "the proxy listens in the namespace made ahead";
    }
    EXPECT_LT(countEntries("/proc/self/fd"), fds) << "the namespace's fd went with the network";
}

}  // namespace
}  // namespace nixjail::runner::network
