#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "proxy/kernel_random.h"

#include <gtest/gtest.h>
#include <openssl/rand.h>

#include <array>

#include "proxy/cert_authority.h"

namespace nixjail::proxy {
namespace {

// After the switch, OpenSSL's randomness (public and private, which keys, nonces and serials
// come from) is the kernel's, and a CA and its leaves are still made and verify.
TEST(KernelRandomness, ReplacesOpensslsGeneratorForKeysAndNonces) {
    useKernelRandomness();
    useKernelRandomness();  // a second call changes nothing
    EXPECT_NE(RAND_get_rand_method(), RAND_OpenSSL());
    EXPECT_EQ(RAND_status(), 1);
    std::array<unsigned char, 32> a{}, b{}, c{};
    ASSERT_EQ(RAND_bytes(a.data(), a.size()), 1);
    ASSERT_EQ(RAND_bytes(b.data(), b.size()), 1);
    ASSERT_EQ(RAND_priv_bytes(c.data(), c.size()), 1);
    EXPECT_NE(a, b);
    EXPECT_NE(b, c);
    EXPECT_NE(a, (std::array<unsigned char, 32>{}));

    auto ca = CertificateAuthority::generate(kJobCaName);
    auto leaf = ca.mintLeafCertificate("forge.test");
    EvpPkeyPtr caKey(X509_get_pubkey(ca.certificate()));
    EXPECT_EQ(X509_verify(ca.certificate(), caKey.get()), 1);
    EXPECT_EQ(X509_verify(leaf.certificate.get(), caKey.get()), 1);
}

}  // namespace
}  // namespace nixjail::proxy
