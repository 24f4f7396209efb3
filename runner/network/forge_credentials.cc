// The forge tokens as proxy credentials: a dummy of the same shape for each token (see
// forge_credentials.h), and the way back from a dummy to its real value.
#include "runner/network/forge_credentials.h"


#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <string_view>

#include "proxy/credential_injector.h"
#include "runner/base/error.h"
#include "runner/base/random_bytes.h"
#include "runner/network/job_network.h"

namespace nixjail::runner::network {

namespace {

bool allHex(const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
}

bool allBase64Url(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
}

// A JSON Web Token "header.payload.signature" (base64url segments, a header object naming its
// "alg"): the length of its signature segment, or 0 when `s` is not one.
size_t jwtSignatureLength(const std::string& s) {
    const size_t a = s.find('.'), b = a == std::string::npos ? a : s.find('.', a + 1);
    if (b == std::string::npos || s.find('.', b + 1) != std::string::npos) return 0;
    const std::string_view header = std::string_view(s).substr(0, a);
    if (!allBase64Url(header) || !allBase64Url(std::string_view(s).substr(a + 1, b - a - 1)) ||
        !allBase64Url(std::string_view(s).substr(b + 1))) {
        return 0;
    }
    std::string standard(header);
    for (auto& c : standard) c = c == '-' ? '+' : c == '_' ? '/' : c;
    standard.append((4 - standard.size() % 4) % 4, '=');
    auto decoded = proxy::base64Decode(standard);
    if (!decoded) return 0;
    auto json = nlohmann::json::parse(*decoded, nullptr, false);
    return json.is_object() && json.contains("alg") ? s.size() - b - 1 : 0;
}

// `n` random bytes. Throws base::Error if the kernel gives none.
std::string randomBytes(size_t n) {
    std::string bytes(n, '\0');
    base::randomBytes(bytes.data(), n);
    return bytes;
}

std::string randomBase64Url(size_t length) {
    static constexpr char kDigits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    for (unsigned char b : randomBytes(length)) out += kDigits[b & 63];
    return out;
}

// A dummy of the real value's shape. A JWT keeps its header and claims (clients read them: the
// artifact client takes its run and job ids from the runtime token's "scp" claim; they grant
// nothing without the signature) and gets a random signature of the same length.
std::string dummyFor(const std::string& real) {
    const size_t signature = jwtSignatureLength(real);
    for (;;) {
        std::string dummy =
            signature >= 16 ? real.substr(0, real.size() - signature) + randomBase64Url(signature)
            : real.size() >= 16 && real.size() <= 128 && allHex(real)
                ? randomHex(real.size())
                : "nixjail-dummy-" + randomHex(32);
        if (dummy.find(real) == std::string::npos && real.find(dummy) == std::string::npos)
            return dummy;
    }
}

proxy::Credential credential(std::string name, const std::string& value,
                             const std::vector<std::string>& hosts, std::string header,
                             bool plain_http) {
    proxy::Credential c;
    c.name = std::move(name);
    c.value = base::Secret(value);
    c.hosts = hosts;
    c.header_template = std::move(header);
    c.dummy = dummyFor(value);
    c.plain_http = plain_http;
    return c;
}

}  // namespace

std::string randomHex(size_t length) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : randomBytes((length + 1) / 2)) {
        out += kDigits[b >> 4];
        out += kDigits[b & 15];
    }
    out.resize(length);
    return out;
}

std::vector<proxy::Credential> forgeCredentials(const ForgeTokens& tokens,
                                                const std::vector<std::string>& forge_hosts,
                                                const std::string& server_url,
                                                const std::vector<std::string>& service_hosts) {
    std::vector<proxy::Credential> out;
    if (forge_hosts.empty()) return out;
    const bool plain = server_url.rfind("http://", 0) == 0;
    if (!tokens.token.empty()) {
        out.push_back(credential("forge token", tokens.token, forge_hosts,
                                 "Authorization: token {token}", plain));
    }
    if (!tokens.runtime_token.empty() && tokens.runtime_token != tokens.token) {
        out.push_back(credential("forge runtime token", tokens.runtime_token, forge_hosts,
                                 "Authorization: Bearer {token}", plain));
    }
    const std::string& runtime = tokens.runtime_token.empty() ? tokens.token : tokens.runtime_token;
    if (!service_hosts.empty()) {
        for (const auto& c : std::vector<proxy::Credential>(out)) {
            if (c.value.reveal() != runtime) continue;
            proxy::Credential services = c;
            services.name = c.name + " (runner services)";
            services.hosts = service_hosts;
            services.header_template = "Authorization: Bearer {token}";
            services.plain_http = true;  // loopback on the runner's own host
            out.push_back(std::move(services));
        }
    }
    return out;
}

std::string realValueFor(const std::string& value, const std::string& url,
                         const std::vector<proxy::Credential>& credentials) {
    const std::string host = urlHost(url);
    const bool tls = url.rfind("https://", 0) == 0;
    for (const auto& c : credentials) {
        if (!c.dummy.empty() && value == c.dummy && !host.empty() && (tls || c.plain_http) &&
            proxy::credentialAllowsHost(c, host)) {
            return c.value.reveal();
        }
    }
    return value;
}

}  // namespace nixjail::runner::network
