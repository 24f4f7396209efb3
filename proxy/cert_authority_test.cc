#include "proxy/cert_authority.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
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

X509Ptr parsePem(const std::string& pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                  BIO_free);
    return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// The CA is signed without X509_sign (cert_authority.cc): what a client reads from its PEM must
// be a well-formed P-256 CA whose self-signature verifies, with the key identifiers OpenSSL itself
// computes. Many CAs, so that signatures ending in zero octets (1 in 256) are among them.
TEST(CertificateAuthority, CaFromItsPemIsWellFormedAndSelfSigned) {
    for (int i = 0; i < 1000; ++i) {
        auto ca = CertificateAuthority::generate(kJobCaName);
        X509Ptr cert = parsePem(ca.certificatePem());
        ASSERT_TRUE(cert) << ca.certificatePem();
        EvpPkeyPtr pub(X509_get_pubkey(cert.get()));
        ASSERT_TRUE(pub);
        ASSERT_EQ(X509_verify(cert.get(), pub.get()), 1) << "CA " << i << ":\n" << ca.certificatePem();
        EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256);
        EXPECT_EQ(X509_check_ca(cert.get()), 1);
        EXPECT_EQ(X509_check_issued(cert.get(), cert.get()), X509_V_OK);
        char curve[32] = {};
        ASSERT_EQ(EVP_PKEY_get_utf8_string_param(pub.get(), "group", curve, sizeof curve, nullptr), 1);
        EXPECT_STREQ(curve, "prime256v1");
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int digestLen = 0;
        ASSERT_EQ(X509_pubkey_digest(cert.get(), EVP_sha1(), digest, &digestLen), 1);
        const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert.get());
        const ASN1_OCTET_STRING* akid = X509_get0_authority_key_id(cert.get());
        ASSERT_TRUE(ski && akid);
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(ski)), ASN1_STRING_length(ski)),
                  std::string(reinterpret_cast<const char*>(digest), digestLen));
        EXPECT_EQ(ASN1_OCTET_STRING_cmp(ski, akid), 0);
        if (::testing::Test::HasFailure()) break;
    }
}

TEST(CertificateAuthority, EachProxyHasItsOwnCa) {
    auto a = CertificateAuthority::generate("a");
    auto b = CertificateAuthority::generate("b");
    auto leaf = a.mintLeafCertificate("x.test");
    EXPECT_FALSE(verifies(b, leaf.certificate.get(), "x.test"));
}

}  // namespace
}  // namespace nixjail::proxy
