// Which upstream addresses a job's proxy may connect to. A job must never reach the runner's own
// host through its proxy (a name that resolves to 127.0.0.1, the host's LAN address, or the
// link-local cloud metadata service), whatever the policy allows by name. Only the runner's own
// pins (ProxyConfig::host_overrides) may point there, each at one port when it names one.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "proxy/asio_config.h"

namespace nixjail::proxy {

// An override value: "IP" (any port) or "IP:PORT" / "[IPv6]:PORT" (that port only). Throws
// base::Error for anything else.
struct HostOverride {
    asio::ip::address address;
    std::optional<std::uint16_t> port;
};
HostOverride parseHostOverride(const std::string& value);

class UpstreamGuard {
  public:
    // Snapshot of this host's interface addresses (getifaddrs) besides the fixed ranges.
    static UpstreamGuard forThisHost();
    explicit UpstreamGuard(std::set<asio::ip::address> host_addresses) : host_(std::move(host_addresses)) {}

    // Empty when `addr` may be an upstream; otherwise why not, e.g. "a loopback address".
    std::string refusal(const asio::ip::address& addr) const;

  private:
    std::set<asio::ip::address> host_;
};

}  // namespace nixjail::proxy
