// The per-proxy certificate authority: an EC P-256 CA made at start-up, and leaf certificates
// minted per host for TLS interception. The key stays in this process; only the PEM leaves.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace nixjail::proxy {

struct EvpPkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

struct LeafCertificate {
    X509Ptr certificate;
    EVP_PKEY* key = nullptr;  // owned by the CertificateAuthority, shared by all its leaves
};

// The common name of every job's proxy CA.
inline constexpr const char* kJobCaName = "nixjail per-job proxy CA";

class CertificateAuthority {
  public:
    // Generates a fresh key and self-signed CA certificate. Throws SslError.
    static CertificateAuthority generate(const std::string& common_name);

    const std::string& certificatePem() const { return pem_; }
    X509* certificate() const { return cert_.get(); }
    // A certificate for `host` (DNS name, or an IPv4/IPv6 literal) signed by this CA. Throws
    // SslError.
    LeafCertificate mintLeafCertificate(const std::string& host) const;

  private:
    CertificateAuthority() = default;
    EvpPkeyPtr ca_key_;
    X509Ptr cert_;
    std::string pem_;
    EvpPkeyPtr leaf_key_;  // one key for every leaf: minting stays cheap (one signature per host)
};

// "-----BEGIN CERTIFICATE-----..." for one certificate. Throws SslError.
std::string certificateToPem(X509* cert);

}  // namespace nixjail::proxy
