// CA and leaf certificate generation with OpenSSL 3.
//
// The CA is made with OpenSSL's direct EC calls (EC_KEY, ECDSA_do_sign_ex, SHA256_*), not its
// EVP ones: on a process's first use, each EVP operation first loads the configuration and builds
// the default provider's table of every algorithm of its kind (every key type, every digest, every
// signature), about 1.5 ms of CPU for one CA, all of it before a 1-step `exec`'s job may start
// (its CA goes into the jail). The direct calls compute at once; the EVP machinery waits for the
// first TLS connection, which needs it anyway. Leaf certificates keep X509_sign.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "proxy/cert_authority.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "proxy/ssl_error.h"

namespace nixjail::proxy {

namespace {

constexpr long kCaValiditySeconds = 30L * 24 * 3600;
constexpr long kLeafValiditySeconds = 30L * 24 * 3600;
constexpr long kBackdateSeconds = 3600;  // tolerate clients whose clock is a little behind

struct EcKeyFree {
    void operator()(EC_KEY* k) const { EC_KEY_free(k); }
};
struct OpensslFree {
    void operator()(unsigned char* p) const { OPENSSL_free(p); }
};

// A P-256 key (named curve, uncompressed points), made without EVP (see the top).
EvpPkeyPtr generateKey() {
    std::unique_ptr<EC_KEY, EcKeyFree> ec(EC_KEY_new_by_curve_name(NID_X9_62_prime256v1));
    if (!ec || EC_KEY_generate_key(ec.get()) != 1) {
        throw SslError("cannot generate an EC P-256 key for the proxy CA");
    }
    EvpPkeyPtr key(EVP_PKEY_new());
    if (!key || EVP_PKEY_assign_EC_KEY(key.get(), ec.get()) != 1) {
        throw SslError("cannot wrap the proxy CA's EC key");
    }
    ec.release();  // owned by `key` now
    return key;
}

void setRandomSerial(X509* cert) {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        throw SslError("cannot get random bytes for a serial");
    bytes[0] &= 0x7f;  // positive
    std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(BN_bin2bn(bytes, sizeof bytes, nullptr),
                                                   BN_free);
    if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert))) {
        throw SslError("cannot set certificate serial number");
    }
}

void addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) throw SslError("cannot build certificate extension '" + value + "'");
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    if (!ok) throw SslError("cannot add certificate extension '" + value + "'");
}

X509Ptr newCertificate(const std::string& common_name, EVP_PKEY* key, long validity) {
    X509Ptr cert(X509_new());
    if (!cert) throw SslError("cannot allocate a certificate");
    X509_set_version(cert.get(), 2);
    setRandomSerial(cert.get());
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), validity);
    X509_set_pubkey(cert.get(), key);
    X509_NAME* name = X509_get_subject_name(cert.get());
    // A CN longer than 64 bytes is invalid; the SAN carries the real name anyway.
    std::string cn = common_name.substr(0, 64);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    return cert;
}

// subjectKeyIdentifier and authorityKeyIdentifier of a self-signed certificate: both the SHA-1 of
// its public key's bits (RFC 5280 4.2.1.2, method 1), as the "hash" and "keyid:always" values
// compute it, without fetching SHA-1 through EVP.
void addKeyIdentifiers(X509* cert) {
    const unsigned char* bits = nullptr;
    int bitsLen = 0;
    if (X509_PUBKEY_get0_param(nullptr, &bits, &bitsLen, nullptr, X509_get_X509_PUBKEY(cert)) != 1) {
        throw SslError("cannot read the proxy CA's public key");
    }
    unsigned char id[SHA_DIGEST_LENGTH];
    SHA_CTX sha;
    if (SHA1_Init(&sha) != 1 || SHA1_Update(&sha, bits, static_cast<std::size_t>(bitsLen)) != 1 ||
        SHA1_Final(id, &sha) != 1) {
        throw SslError("cannot hash the proxy CA's public key");
    }
    std::unique_ptr<ASN1_OCTET_STRING, decltype(&ASN1_OCTET_STRING_free)> ski(ASN1_OCTET_STRING_new(),
                                                                             ASN1_OCTET_STRING_free);
    std::unique_ptr<AUTHORITY_KEYID, decltype(&AUTHORITY_KEYID_free)> akid(AUTHORITY_KEYID_new(),
                                                                           AUTHORITY_KEYID_free);
    if (!ski || !akid || ASN1_OCTET_STRING_set(ski.get(), id, sizeof id) != 1 ||
        !(akid->keyid = ASN1_OCTET_STRING_dup(ski.get())) ||
        X509_add1_ext_i2d(cert, NID_subject_key_identifier, ski.get(), 0, X509V3_ADD_DEFAULT) != 1 ||
        X509_add1_ext_i2d(cert, NID_authority_key_identifier, akid.get(), 0, X509V3_ADD_DEFAULT) != 1) {
        throw SslError("cannot add the proxy CA's key identifiers");
    }
}

// Signs `cert` with `key` (an EC key from generateKey) by ecdsa-with-SHA256, as X509_sign would:
// the algorithm in both places, the TBS part encoded, hashed and signed, the DER signature set as
// the certificate's BIT STRING (OpenSSL has no setter for it; X509_sign writes the same fields).
void selfSign(X509* cert, EVP_PKEY* key) {
    const ASN1_BIT_STRING* constSignature = nullptr;
    const X509_ALGOR* constOuterAlg = nullptr;
    X509_get0_signature(&constSignature, &constOuterAlg, cert);
    auto* signature = const_cast<ASN1_BIT_STRING*>(constSignature);
    for (const X509_ALGOR* alg : {X509_get0_tbs_sigalg(cert), constOuterAlg}) {
        if (X509_ALGOR_set0(const_cast<X509_ALGOR*>(alg), OBJ_nid2obj(NID_ecdsa_with_SHA256),
                            V_ASN1_UNDEF, nullptr) != 1) {
            throw SslError("cannot set the proxy CA's signature algorithm");
        }
    }
    unsigned char* tbsRaw = nullptr;
    const int tbsLen = i2d_re_X509_tbs(cert, &tbsRaw);
    std::unique_ptr<unsigned char, OpensslFree> tbs(tbsRaw);
    if (tbsLen <= 0) throw SslError("cannot encode the proxy CA for signing");
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256_CTX sha;
    if (SHA256_Init(&sha) != 1 || SHA256_Update(&sha, tbs.get(), static_cast<std::size_t>(tbsLen)) != 1 ||
        SHA256_Final(digest, &sha) != 1) {
        throw SslError("cannot hash the proxy CA for signing");
    }
    // A random nonce from RAND (ECDSA_sign_setup without a digest), not one derived by hashing
    // the key with SHA-512, which OpenSSL 3.0 fetches through EVP.
    auto* ec = const_cast<EC_KEY*>(EVP_PKEY_get0_EC_KEY(key));
    BIGNUM* kinvRaw = nullptr;
    BIGNUM* rRaw = nullptr;
    if (ec == nullptr || ECDSA_sign_setup(ec, nullptr, &kinvRaw, &rRaw) != 1) {
        throw SslError("cannot prepare the proxy CA's signature");
    }
    std::unique_ptr<BIGNUM, decltype(&BN_clear_free)> kinv(kinvRaw, BN_clear_free);
    std::unique_ptr<BIGNUM, decltype(&BN_clear_free)> r(rRaw, BN_clear_free);
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
        ECDSA_do_sign_ex(digest, sizeof digest, kinv.get(), r.get(), ec), ECDSA_SIG_free);
    if (!sig) throw SslError("cannot sign the proxy CA");
    unsigned char* derRaw = nullptr;
    const int derLen = i2d_ECDSA_SIG(sig.get(), &derRaw);
    std::unique_ptr<unsigned char, OpensslFree> der(derRaw);
    if (derLen <= 0 || ASN1_BIT_STRING_set(signature, der.get(), derLen) != 1) {
        throw SslError("cannot store the proxy CA's signature");
    }
    // Whole octets: without this flag, encoding drops the signature's trailing zero octets.
    signature->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
    signature->flags |= ASN1_STRING_FLAG_BITS_LEFT;
}

bool isIpLiteral(const std::string& host) {
    unsigned char buf[16];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 ||
           inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

std::string certificateToPem(X509* cert) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
        throw SslError("cannot encode certificate as PEM");
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

CertificateAuthority CertificateAuthority::generate(const std::string& common_name) {
    CertificateAuthority ca;
    ca.ca_key_ = generateKey();
    ca.leaf_key_ = generateKey();
    ca.cert_ = newCertificate(common_name, ca.ca_key_.get(), kCaValiditySeconds);
    X509* c = ca.cert_.get();
    X509_set_issuer_name(c, X509_get_subject_name(c));
    addExtension(c, c, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    addExtension(c, c, NID_key_usage, "critical,keyCertSign,cRLSign");
    addKeyIdentifiers(c);
    selfSign(c, ca.ca_key_.get());
    ca.pem_ = certificateToPem(c);
    return ca;
}

LeafCertificate CertificateAuthority::mintLeafCertificate(const std::string& host) const {
    LeafCertificate leaf;
    leaf.key = leaf_key_.get();
    leaf.certificate = newCertificate(host, leaf_key_.get(), kLeafValiditySeconds);
    X509* c = leaf.certificate.get();
    X509_set_issuer_name(c, X509_get_subject_name(cert_.get()));
    addExtension(c, cert_.get(), NID_basic_constraints, "critical,CA:FALSE");
    addExtension(c, cert_.get(), NID_key_usage, "critical,digitalSignature");
    addExtension(c, cert_.get(), NID_ext_key_usage, "serverAuth");
    addExtension(c, cert_.get(), NID_subject_key_identifier, "hash");
    addExtension(c, cert_.get(), NID_authority_key_identifier, "keyid:always");
    addExtension(c, cert_.get(), NID_subject_alt_name, (isIpLiteral(host) ? "IP:" : "DNS:") + host);
    if (X509_sign(c, ca_key_.get(), EVP_sha256()) == 0) {
        throw SslError("cannot sign the leaf certificate for '" + host + "'");
    }
    return leaf;
}

}  // namespace nixjail::proxy
