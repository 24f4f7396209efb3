// Credential injection: the only code that reads a credential's real value.
#include "proxy/credential_injector.h"

#include <algorithm>
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

// The length of the longest proper prefix of `needle` that `text` ends with, 0 if none: what a
// stream must hold back, since the next piece may complete the needle.
std::size_t partialNeedleAtEnd(std::string_view text, std::string_view needle) {
    for (std::size_t k = std::min(needle.size() - 1, text.size()); k > 0; --k) {
        if (text.substr(text.size() - k) == needle.substr(0, k)) return k;
    }
    return 0;
}

}  // namespace

bool credentialAllowsHost(const Credential& c, std::string_view host) {
    for (const auto& pattern : c.hosts) {
        if (HostPattern::literalOrGlob(pattern).matches(host)) return true;
    }
    return false;
}

std::vector<std::string> injectCredentials(http::Headers& headers,
                                           const std::vector<Credential>& credentials,
                                           std::string_view host, bool tls) {
    std::vector<std::string> injected;
    for (const auto& c : credentials) {
        if (!tls && !c.plain_http) continue;  // a real value never travels in clear text
        if (!credentialAllowsHost(c, host)) continue;
        const std::string& real = c.value.reveal();
        bool changed = false;
        for (auto& h : headers) {
            changed = replaceAll(h.value, c.dummy, real) || changed;
            changed = replaceInBasicAuth(h.value, c.dummy, real) || changed;
        }
        if (changed) injected.push_back(c.name);
    }
    return injected;
}

std::vector<std::string> injectIntoQuery(std::string& target, const std::vector<Credential>& credentials,
                                         std::string_view host, bool tls) {
    const auto q = target.find('?');
    if (q == std::string::npos) return {};
    std::string query = target.substr(q + 1);
    std::vector<std::string> injected;
    for (const auto& c : credentials) {
        if (!tls && !c.plain_http) continue;
        if (!credentialAllowsHost(c, host)) continue;
        const std::string real = base::percentEncoded(c.value.reveal());
        bool changed = replaceAll(query, base::percentEncoded(c.dummy), real);
        changed = replaceAll(query, c.dummy, real) || changed;
        if (changed) injected.push_back(c.name);
    }
    if (!injected.empty()) target = target.substr(0, q + 1) + query;
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

StreamRewriter::StreamRewriter(std::vector<Swap> swaps) {
    for (auto& swap : swaps) {
        if (!swap.from.empty() && swap.from.size() == swap.to.size()) swaps_.push_back(std::move(swap));
    }
}

std::string StreamRewriter::feed(std::string_view data) {
    std::string buf = std::move(tail_);
    buf.append(data);
    tail_.clear();
    std::size_t hold = 0;
    for (const auto& swap : swaps_) {
        const std::string& needle = swap.from;
        for (auto pos = buf.find(needle); pos != std::string::npos; pos = buf.find(needle, pos)) {
            buf.replace(pos, needle.size(), swap.to);
            pos += needle.size();
            if (std::find(swapped_.begin(), swapped_.end(), swap.name) == swapped_.end())
                swapped_.push_back(swap.name);
        }
        hold = std::max(hold, partialNeedleAtEnd(buf, needle));
    }
    tail_ = buf.substr(buf.size() - hold);
    buf.resize(buf.size() - hold);
    return buf;
}

bool StreamRewriter::passesUnchanged(std::string_view data) const {
    if (!tail_.empty()) return false;
    for (const auto& swap : swaps_) {
        if (data.find(swap.from) != std::string_view::npos || partialNeedleAtEnd(data, swap.from) > 0)
            return false;
    }
    return true;
}

std::string StreamRewriter::finish() { return std::exchange(tail_, std::string()); }

StreamRewriter responseBodyScrubber(const std::vector<Credential>& credentials) {
    std::vector<StreamRewriter::Swap> swaps;
    for (const auto& c : credentials) {
        const std::string& real = c.value.reveal();
        if (real.empty()) continue;
        swaps.push_back({real, c.dummy.size() == real.size() ? c.dummy : std::string(real.size(), '*'), c.name});
    }
    return StreamRewriter(std::move(swaps));
}

StreamRewriter requestBodyInjector(const std::vector<Credential>& credentials,
                                   const http::Headers& headers, std::string_view host, bool tls) {
    if (const auto* encoding = http::findHeader(headers, "Content-Encoding");
        encoding && !http::equalsIgnoreCase(encoding->value, "identity")) {
        return {};
    }
    std::vector<StreamRewriter::Swap> swaps;
    for (const auto& c : credentials) {
        if (!c.in_bodies || (!tls && !c.plain_http) || !credentialAllowsHost(c, host)) continue;
        const std::string& real = c.value.reveal();
        swaps.push_back({c.dummy, real, c.name});
        std::string encoded_dummy = base::percentEncoded(c.dummy);
        if (encoded_dummy != c.dummy) swaps.push_back({encoded_dummy, base::percentEncoded(real), c.name});
    }
    return StreamRewriter(std::move(swaps));
}

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
    if (c.in_bodies && c.dummy.size() != c.value.reveal().size()) {
        throw base::Error(what + " is swapped in request bodies, but its dummy is not as long as its "
                                 "value; the body's length would change");
    }
    if (!c.header_template.empty() && c.header_template.find("{token}") == std::string::npos) {
        throw base::Error(what + ": header template '" + c.header_template + "' lacks '{token}'");
    }
}

}  // namespace nixjail::proxy
