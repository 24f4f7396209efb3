// What a proxy trusts upstream: the system's CA bundle plus an optional extra CA file, as the
// client-side TLS context every upstream connection is made from. Loading the system bundle parses
// every CA in it (tens of milliseconds, most of a proxy's set-up time), so a process loads it once
// and shares it across the proxies of all its jobs, and only when the first upstream TLS
// connection needs it: a job that makes none never pays for it. The same goes for the context
// itself: OpenSSL's first context in a process costs about 3 ms (its providers and algorithm
// tables), paid by the first TLS connection too (tls_warmup.h says why). The context is complete
// after that first context() call and never changed after; OpenSSL lets many threads make
// connections from one such context.
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>

#include "proxy/asio_config.h"

namespace nixjail::proxy {

class UpstreamTrust {
  public:
    // Throws SslError naming the extra CA file when it cannot be loaded (at once, so a bad file
    // stops a daemon's start rather than its jobs' requests). Without one, no TLS work is done
    // until the first context() call.
    explicit UpstreamTrust(const std::filesystem::path& extra_ca_file);
    UpstreamTrust(const UpstreamTrust&) = delete;
    UpstreamTrust& operator=(const UpstreamTrust&) = delete;

    // For asio::ssl::stream, which wants a mutable reference; nothing changes it after the first
    // call, which makes the context and loads the system trust store.
    asio::ssl::context& context() const;

  private:
    // The TLS 1.2+ client context that verifies peers, with the extra CA file loaded.
    static asio::ssl::context makeContext(const std::filesystem::path& extra_ca_file);

    std::filesystem::path extra_ca_file_;
    mutable std::optional<asio::ssl::context> context_;
    mutable std::once_flag made_;
};

}  // namespace nixjail::proxy
