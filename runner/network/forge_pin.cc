// forgeHostPin: a forge URL whose host is localhost or an address literal becomes a proxy host
// pin of that address and port (see forge_pin.h).
#include "runner/network/forge_pin.h"

#include <arpa/inet.h>

#include <charconv>

namespace nixjail::runner::network {

std::optional<std::pair<std::string, std::string>> forgeHostPin(const std::string& server_url) {
    const auto scheme_end = server_url.find("://");
    if (scheme_end == std::string::npos) return std::nullopt;
    const std::string scheme = server_url.substr(0, scheme_end);
    if (scheme != "http" && scheme != "https") return std::nullopt;
    std::string authority = server_url.substr(scheme_end + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    if (auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
    std::string host, port;
    if (authority.starts_with("[")) {
        const auto close = authority.find(']');
        if (close == std::string::npos) return std::nullopt;
        host = authority.substr(1, close - 1);
        if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
    } else {
        const auto colon = authority.find(':');
        host = authority.substr(0, colon);
        if (colon != std::string::npos) port = authority.substr(colon + 1);
    }
    if (port.empty()) port = scheme == "https" ? "443" : "80";
    unsigned n = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc() || end != port.data() + port.size() || n == 0 || n > 65535) return std::nullopt;
    for (auto& c : host) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    in_addr v4{};
    in6_addr v6{};
    if (host == "localhost") return std::pair{host, "127.0.0.1:" + port};
    if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return std::pair{host, host + ":" + port};
    if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) return std::pair{host, "[" + host + "]:" + port};
    return std::nullopt;
}

}  // namespace nixjail::runner::network
