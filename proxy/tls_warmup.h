// OpenSSL's one-time start-up, on a thread of its own. The first TLS context or key a process
// makes loads OpenSSL's configuration and providers and fetches every algorithm (about 3 ms here);
// `exec` starts this at once, so that by the time its first job's proxy makes its CA and contexts
// the work is done on the other core instead of in the job's set-up. Anything that uses OpenSSL
// meanwhile just waits for the part in progress (OpenSSL's initialisation is thread-safe).
#pragma once

#include <thread>

namespace nixjail::proxy {

class TlsWarmup {
  public:
    TlsWarmup();
    // Waits for the warm-up to finish (a few milliseconds at most).
    ~TlsWarmup();
    TlsWarmup(const TlsWarmup&) = delete;
    TlsWarmup& operator=(const TlsWarmup&) = delete;

  private:
    std::thread thread_;
};

}  // namespace nixjail::proxy
