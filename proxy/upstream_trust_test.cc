// The upstream context made on first use, and OpenSSL's warm-up thread.
#include "proxy/upstream_trust.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <optional>
#include <thread>
#include <vector>

#include "proxy/cert_authority.h"
#include "proxy/proxy.h"
#include "proxy/tls_warmup.h"

namespace nixjail::proxy {
namespace {

TEST(UpstreamTrust, TheContextMadeOnFirstUseVerifiesPeersWithTls12OrLater) {
    const UpstreamTrust trust("");
    asio::ssl::context& first = trust.context();
    SSL_CTX* raw = first.native_handle();
    EXPECT_EQ(SSL_CTX_get_min_proto_version(raw), TLS1_2_VERSION);
    EXPECT_EQ(SSL_CTX_get_verify_mode(raw) & SSL_VERIFY_PEER, SSL_VERIFY_PEER);
    // The system trust store is loaded into it (ca-certificates' bundle, a dependency).
    const auto* objects = X509_STORE_get0_objects(SSL_CTX_get_cert_store(raw));
    ASSERT_NE(objects, nullptr);
    EXPECT_GT(sk_X509_OBJECT_num(objects), 0);
    EXPECT_EQ(&trust.context(), &first) << "made once, then shared";
}

TEST(UpstreamTrust, ContextsAreMadeOnceWhenManyThreadsAskAtOnce) {
    const UpstreamTrust trust("");
    std::vector<asio::ssl::context*> seen(4, nullptr);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < seen.size(); ++i) threads.emplace_back([&, i] { seen[i] = &trust.context(); });
    for (auto& t : threads) t.join();
    for (auto* s : seen) EXPECT_EQ(s, seen[0]);
}

TEST(TlsWarmup, FinishesAndLeavesOpenSslReadyForAJobsCa) {
    {
        TlsWarmup first;
        // Used while the warm-up may still run: OpenSSL's start-up is shared, not repeated.
        const auto ca = CertificateAuthority::generate("warm-up test CA");
        EXPECT_NE(ca.certificatePem().find("BEGIN CERTIFICATE"), std::string::npos);
    }
    TlsWarmup second;  // a second one in the same process finds the work done
}

// The CA made ahead goes to one proxy only; every later one is fresh. A proxy given a source of
// CAs takes its CA from it: the job trusts exactly that one.
TEST(TlsWarmup, ItsCaGoesToOneProxyOnlyAndLaterOnesAreFresh) {
    TlsWarmup warm;
    ProxyConfig first;
    first.authority = warm.authorities();
    const auto proxy = startProxy(std::move(first));
    const auto later = warm.takeAuthority();
    const auto latest = warm.takeAuthority();
    EXPECT_NE(proxy.caCertificatePem().find("BEGIN CERTIFICATE"), std::string::npos);
    EXPECT_NE(later.certificatePem(), proxy.caCertificatePem());
    EXPECT_NE(latest.certificatePem(), later.certificatePem());
    EXPECT_NE(later.certificatePem(), proxy.caCertificatePem());

    std::optional<CertificateAuthority> given(CertificateAuthority::generate("the test's CA"));
    const std::string givenPem = given->certificatePem();
    ProxyConfig second;
    second.authority = [&given] {
        CertificateAuthority ca = std::move(*given);
        given.reset();
        return ca;
    };
    EXPECT_EQ(startProxy(std::move(second)).caCertificatePem(), givenPem);
}

}  // namespace
}  // namespace nixjail::proxy
