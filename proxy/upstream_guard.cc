// Upstream address checks and override parsing.
#include "proxy/upstream_guard.h"

#include <ifaddrs.h>
#include <netinet/in.h>

#include "runner/base/error.h"

namespace nixjail::proxy {

HostOverride parseHostOverride(const std::string& value) {
    std::string ip = value;
    std::optional<std::uint16_t> port;
    const auto colon = value.rfind(':');
    const bool bracketed = !value.empty() && value.front() == '[';
    // "IP:PORT" for IPv4, "[IPv6]:PORT" for IPv6; a bare IPv6 address has colons but no port.
    if (colon != std::string::npos && (bracketed || value.find(':') == colon)) {
        const std::string p = value.substr(colon + 1);
        ip = value.substr(0, colon);
        if (bracketed) {
            if (ip.size() < 2 || ip.back() != ']') throw base::Error("host override '" + value + "': bad [IPv6]:PORT");
            ip = ip.substr(1, ip.size() - 2);
        }
        unsigned long n = 0;
        try {
            size_t used = 0;
            n = std::stoul(p, &used);
            if (used != p.size()) n = 0;
        } catch (const std::exception&) {
            n = 0;
        }
        if (n == 0 || n > 65535) throw base::Error("host override '" + value + "': the port must be 1-65535");
        port = static_cast<std::uint16_t>(n);
    }
    std::error_code ec;
    const auto addr = asio::ip::make_address(ip, ec);
    if (ec) throw base::Error("host override '" + value + "' is not an IP address (or IP:PORT)");
    return {addr, port};
}

UpstreamGuard UpstreamGuard::forThisHost() {
    std::set<asio::ip::address> out;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) == 0) {
        for (ifaddrs* i = list; i; i = i->ifa_next) {
            if (!i->ifa_addr) continue;
            if (i->ifa_addr->sa_family == AF_INET) {
                const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
                out.insert(asio::ip::address_v4(ntohl(sin->sin_addr.s_addr)));
            } else if (i->ifa_addr->sa_family == AF_INET6) {
                const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
                asio::ip::address_v6::bytes_type bytes;
                std::copy(std::begin(sin6->sin6_addr.s6_addr), std::end(sin6->sin6_addr.s6_addr), bytes.begin());
                out.insert(asio::ip::address_v6(bytes));
            }
        }
        ::freeifaddrs(list);
    }
    return UpstreamGuard(std::move(out));
}

std::string UpstreamGuard::refusal(const asio::ip::address& given) const {
    asio::ip::address addr = given;
    if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
        addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    }
    if (addr.is_loopback()) return "a loopback address";
    if (addr.is_unspecified()) return "the unspecified address";
    if (addr.is_v4()) {
        const auto b = addr.to_v4().to_bytes();
        if (b[0] == 0) return "an address of 'this network' (0.0.0.0/8)";
        if (b[0] == 169 && b[1] == 254) return "a link-local address (such as a cloud metadata service)";
    } else if (addr.to_v6().is_link_local()) {
        return "a link-local address";
    }
    if (host_.count(addr)) return "an address of the runner's own host";
    return "";
}

}  // namespace nixjail::proxy
