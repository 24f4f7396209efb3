// CA and leaf certificate generation with OpenSSL 3.
#include "proxy/cert_authority.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "proxy/ssl_error.h"

namespace nixjail::proxy {

namespace {

constexpr long kCaValiditySeconds = 30L * 24 * 3600;
constexpr long kLeafValiditySeconds = 30L * 24 * 3600;
constexpr long kBackdateSeconds = 3600;  // tolerate clients whose clock is a little behind

EvpPkeyPtr generateKey() {
    EvpPkeyPtr key(EVP_EC_gen("P-256"));
    if (!key) throw SslError("cannot generate an EC P-256 key for the proxy CA");
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
    addExtension(c, c, NID_subject_key_identifier, "hash");
    addExtension(c, c, NID_authority_key_identifier, "keyid:always");
    if (X509_sign(c, ca.ca_key_.get(), EVP_sha256()) == 0)
        throw SslError("cannot self-sign the proxy CA");
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
