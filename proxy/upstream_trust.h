// What a proxy trusts upstream: the system's CA bundle plus an optional extra CA file, as the
// client-side TLS context every upstream connection is made from. Loading the system bundle parses
// every CA in it (most of a proxy's set-up time), so a process loads it once and shares it across
// the proxies of all its jobs. The context is complete when constructed and never changed after;
// OpenSSL lets many threads make connections from one such context.
#pragma once

#include <filesystem>

#include "proxy/asio_config.h"

namespace nixjail::proxy {

class UpstreamTrust {
  public:
    // Throws SslError naming what could not be loaded.
    explicit UpstreamTrust(const std::filesystem::path& extra_ca_file);
    UpstreamTrust(const UpstreamTrust&) = delete;
    UpstreamTrust& operator=(const UpstreamTrust&) = delete;

    // For asio::ssl::stream, which wants a mutable reference; nothing changes it.
    asio::ssl::context& context() const { return context_; }

  private:
    mutable asio::ssl::context context_;
};

}  // namespace nixjail::proxy
