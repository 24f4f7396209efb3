// Credential injection: the only code that reads a credential's real value.
#include "proxy/credential_injector.h"

#include <cctype>
#include <utility>

#include "runner/base/error.h"
#include "runner/base/percent_encoding.h"

namespace nixjail::proxy {

namespace {

constexpr std::size_t kMinDummyLength = 8;

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

std::optional<std::string> injectIntoQuery(std::string& target, const std::vector<Credential>& credentials,
                                           std::string_view host, bool tls) {
    const auto q = target.find('?');
    if (q == std::string::npos) return std::nullopt;
    std::string query = target.substr(q + 1);
    std::optional<std::string> injected;
    for (const auto& c : credentials) {
        if (!tls && !c.plain_http) continue;
        if (!credentialAllowsHost(c, host)) continue;
        const std::string real = base::percentEncoded(c.value.reveal());
        bool changed = replaceAll(query, base::percentEncoded(c.dummy), real);
        changed = replaceAll(query, c.dummy, real) || changed;
        if (changed && !injected) injected = c.name;
    }
    if (injected) target = target.substr(0, q + 1) + query;
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
