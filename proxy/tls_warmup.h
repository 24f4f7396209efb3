// OpenSSL's one-time start-up, on a thread of its own, and the first job's proxy CA with it. The
// first key a process makes loads OpenSSL's configuration and providers, and a CA is two keys and
// a signature (about 1 ms); `exec` starts this at once, so that by the time its first job's proxy
// needs its CA the work is done on the other core instead of in the job's set-up. (The first TLS
// context, another 3 ms or so, is left to the first TLS connection: tls_warmup.cc.) Anything that
// uses OpenSSL meanwhile just waits for the part in progress (OpenSSL's initialisation is
// thread-safe).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "proxy/cert_authority.h"

namespace nixjail::proxy {

class TlsWarmup {
  public:
    TlsWarmup();
    // Waits for the warm-up to finish (a few milliseconds at most).
    ~TlsWarmup();
    TlsWarmup(const TlsWarmup&) = delete;
    TlsWarmup& operator=(const TlsWarmup&) = delete;

    // A CA for one job's proxy: the one made ahead the first time (waiting for it if it is still
    // being made), a freshly generated one after that; never the same one twice. Throws SslError.
    CertificateAuthority takeAuthority();
    // takeAuthority as a ProxyConfig::authority; it must not outlive this object.
    std::function<CertificateAuthority()> authorities() {
        return [this] { return takeAuthority(); };
    }

  private:
    void warmUp();

    std::mutex mutex_;
    std::condition_variable done_cv_;
    bool done_ = false;
    std::optional<CertificateAuthority> ahead_;  // taken by the first job
    std::thread thread_;                         // last: started once the rest exists
};

}  // namespace nixjail::proxy
