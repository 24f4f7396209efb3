#include "proxy/cert_authority.h"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

namespace nixjail::proxy {
namespace {

bool verifies(const CertificateAuthority& ca, X509* leaf, const std::string& host) {
    std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(),
                                                                  X509_STORE_free);
    X509_STORE_add_cert(store.get(), ca.certificate());
    std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                        X509_STORE_CTX_free);
    X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr);
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
    if (host.find_first_not_of("0123456789.") == std::string::npos) {
        X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    } else {
        X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    }
    return X509_verify_cert(ctx.get()) == 1;
}

TEST(CertificateAuthority, LeafVerifiesForItsHostOnly) {
    auto ca = CertificateAuthority::generate("test CA");
    EXPECT_NE(ca.certificatePem().find("BEGIN CERTIFICATE"), std::string::npos);
    EXPECT_EQ(ca.certificatePem().find("PRIVATE"), std::string::npos);
    auto leaf = ca.mintLeafCertificate("git.test");
    EXPECT_TRUE(verifies(ca, leaf.certificate.get(), "git.test"));
    EXPECT_FALSE(verifies(ca, leaf.certificate.get(), "other.test"));
    auto ip = ca.mintLeafCertificate("127.0.0.1");
    EXPECT_TRUE(verifies(ca, ip.certificate.get(), "127.0.0.1"));
}

TEST(CertificateAuthority, EachProxyHasItsOwnCa) {
    auto a = CertificateAuthority::generate("a");
    auto b = CertificateAuthority::generate("b");
    auto leaf = a.mintLeafCertificate("x.test");
    EXPECT_FALSE(verifies(b, leaf.certificate.get(), "x.test"));
}

}  // namespace
}  // namespace nixjail::proxy
