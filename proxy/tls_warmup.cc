// What the warm-up makes: one job CA, kept for the first job that asks (OpenSSL's configuration
// and providers, and the EC code a job's CA and leaf keys use). No TLS context: the first one a
// process makes costs about 3 ms of fetching every cipher and digest, which only a job that makes
// a TLS connection needs, and then once, beside a handshake that costs more; made ahead for every
// job, it took that CPU from the start of jobs that make none (a cached 1-step exec: 15.0 ->
// 14.1 ms side by side on 2 cores).
#include "proxy/tls_warmup.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace nixjail::proxy {

TlsWarmup::TlsWarmup() : thread_([this] { warmUp(); }) {}

TlsWarmup::~TlsWarmup() {
    if (thread_.joinable()) thread_.join();
}

void TlsWarmup::warmUp() {
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
