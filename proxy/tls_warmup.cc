// What the warm-up makes: one client context, thrown away (OpenSSL's configuration, providers,
// ciphers and digests), and one job CA, kept for the first job that asks (the EC code a job's CA
// and leaf keys use).
#include "proxy/tls_warmup.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace nixjail::proxy {

TlsWarmup::TlsWarmup() : thread_([this] { warmUp(); }) {}

TlsWarmup::~TlsWarmup() {
    if (thread_.joinable()) thread_.join();
}

void TlsWarmup::warmUp() {
    OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, nullptr);
    if (SSL_CTX* context = SSL_CTX_new(TLS_client_method())) SSL_CTX_free(context);
    std::optional<CertificateAuthority> made;
    try {
        made.emplace(CertificateAuthority::generate(kJobCaName));
    } catch (const std::exception&) {
        // Met again, and reported, when the job's proxy generates its own.
    }
    ERR_clear_error();
    std::lock_guard lock(mutex_);
    ahead_ = std::move(made);
    done_ = true;
    done_cv_.notify_all();
}

CertificateAuthority TlsWarmup::takeAuthority() {
    {
        std::unique_lock lock(mutex_);
        done_cv_.wait(lock, [this] { return done_; });
        if (ahead_) {
            CertificateAuthority first = std::move(*ahead_);
            ahead_.reset();
            return first;
        }
    }
    return CertificateAuthority::generate(kJobCaName);
}

}  // namespace nixjail::proxy
