// Credential injection: the only code that reads a credential's real value.
#include "proxy/credential_injector.h"

#include <utility>

#include "runner/base/error.h"

namespace nixjail::proxy {

namespace {

constexpr std::size_t kMinDummyLength = 8;
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool replaceAll(std::string& text, std::string_view from, std::string_view to) {
    if (from.empty()) return false;
    bool changed = false;
    for (std::size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
        text.replace(pos, from.size(), to);
        pos += to.size();
        changed = true;
    }
    return changed;
}

// "Basic base64(user:password)": the dummy hides inside the encoding, so decode, swap, re-encode.
bool replaceInBasicAuth(std::string& value, std::string_view from, std::string_view to) {
    if (value.size() < 6 || !http::equalsIgnoreCase(value.substr(0, 6), "Basic ")) return false;
    auto decoded = base64Decode(std::string_view(value).substr(6));
    if (!decoded || !replaceAll(*decoded, from, to)) return false;
    value = value.substr(0, 6) + base64Encode(*decoded);
    return true;
}

}  // namespace

std::string base64Encode(std::string_view data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < data.size(); i += 3) {
        unsigned n = (static_cast<unsigned char>(data[i]) << 16) |
                     (static_cast<unsigned char>(data[i + 1]) << 8) |
                     static_cast<unsigned char>(data[i + 2]);
        for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(n >> s) & 63];
    }
    if (i < data.size()) {
        unsigned n = static_cast<unsigned char>(data[i]) << 16;
        if (i + 1 < data.size()) n |= static_cast<unsigned char>(data[i + 1]) << 8;
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += i + 1 < data.size() ? kAlphabet[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string> base64Decode(std::string_view text) {
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    std::size_t padding = 0;
    for (char c : text) {
        if (c == '=') {
            ++padding;
            continue;
        }
        if (padding) return std::nullopt;  // data after padding
        auto pos = kAlphabet.find(c);
        if (pos == std::string_view::npos) return std::nullopt;
        acc = (acc << 6) | static_cast<unsigned>(pos);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    if (padding > 2) return std::nullopt;
    return out;
}

bool credentialAllowsHost(const Credential& c, std::string_view host) {
    for (const auto& pattern : c.hosts) {
        if (HostPattern::literalOrGlob(pattern).matches(host)) return true;
    }
    return false;
}

std::optional<std::string> injectCredentials(http::Headers& headers,
                                             const std::vector<Credential>& credentials,
                                             std::string_view host, bool tls) {
    std::optional<std::string> injected;
    for (const auto& c : credentials) {
        if (!tls && !c.plain_http) continue;  // a real value never travels in clear text
        if (!credentialAllowsHost(c, host)) continue;
        const std::string& real = c.value.reveal();
        for (auto& h : headers) {
            bool changed = replaceAll(h.value, c.dummy, real);
            changed = replaceInBasicAuth(h.value, c.dummy, real) || changed;
            if (changed && !injected) injected = c.name;
        }
    }
    return injected;
}

void scrubResponseHeaders(http::Headers& headers, const std::vector<Credential>& credentials) {
    for (const auto& c : credentials) {
        for (auto& h : headers) {
            replaceAll(h.value, c.value.reveal(), c.dummy);
            replaceInBasicAuth(h.value, c.value.reveal(), c.dummy);
        }
    }
}

StreamScrubber::StreamScrubber(const std::vector<Credential>& credentials) {
    for (const auto& c : credentials) {
        if (!c.value.empty()) needles_.push_back(c.value.reveal());
    }
}

std::string StreamScrubber::feed(std::string_view data) {
    std::string buf = std::move(tail_);
    buf.append(data);
    tail_.clear();
    std::size_t hold = 0;
    for (const auto& needle : needles_) {
        for (auto pos = buf.find(needle); pos != std::string::npos; pos = buf.find(needle, pos)) {
            buf.replace(pos, needle.size(), needle.size(), '*');
            pos += needle.size();
        }
        // Longest proper prefix of the needle that the buffer ends with.
        for (std::size_t k = std::min(needle.size() - 1, buf.size()); k > hold; --k) {
            if (std::string_view(buf).substr(buf.size() - k) ==
                std::string_view(needle).substr(0, k)) {
                hold = k;
                break;
            }
        }
    }
    tail_ = buf.substr(buf.size() - hold);
    buf.resize(buf.size() - hold);
    return buf;
}

std::string StreamScrubber::finish() { return std::exchange(tail_, std::string()); }

std::string dummyHeaderLine(const Credential& c) {
    std::string line = c.header_template;
    replaceAll(line, "{token}", c.dummy);
    return line;
}

void validateCredential(const Credential& c) {
    std::string what = "credential '" + c.name + "'";
    if (c.name.empty()) throw base::Error("a credential has no name; give each credential a name");
    if (c.value.empty())
        throw base::Error(what + " has an empty value; check its source (env var or file)");
    if (c.dummy.size() < kMinDummyLength) {
        throw base::Error(what +
                          " has a dummy shorter than 8 characters; a short dummy could match "
                          "unrelated header text");
    }
    if (c.value.reveal().find(c.dummy) != std::string::npos ||
        c.dummy.find(c.value.reveal()) != std::string::npos) {
        throw base::Error(what + ": dummy and real value overlap; choose a different dummy");
    }
    if (c.hosts.empty())
        throw base::Error(what + " has no allowed hosts; it would never be injected");
    if (!c.header_template.empty() && c.header_template.find("{token}") == std::string::npos) {
        throw base::Error(what + ": header template '" + c.header_template + "' lacks '{token}'");
    }
}

}  // namespace nixjail::proxy
