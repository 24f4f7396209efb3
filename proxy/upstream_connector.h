// Opening the upstream side of an exchange: resolve (or use a host override), TCP connect, and for
// https a TLS handshake verified against the system store plus the extra CA file.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "proxy/byte_stream.h"

namespace nixjail::proxy {

class ProxyContext;

struct UpstreamTarget {
    std::string host;
    std::uint16_t port = 0;
    bool tls = false;
};

// On failure returns null, sets `ec` and describes the failure in `error` (for the 502 body).
// While it runs, `cancel` aborts whatever step is under way (the caller's timeout calls it); it is
// reset before the coroutine returns.
asio::awaitable<std::unique_ptr<ByteStream>> connectUpstream(ProxyContext& ctx,
                                                             const UpstreamTarget& target,
                                                             std::error_code& ec,
                                                             std::string& error,
                                                             std::function<void()>& cancel);

}  // namespace nixjail::proxy
