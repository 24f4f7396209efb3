// Making a secret's placeholder and the credential the proxy swaps it for.
#include "runner/network/secret_placeholder.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <set>
#include <string_view>

#include "proxy/credential_injector.h"
#include "runner/base/error.h"

namespace nixjail::runner::network {

namespace {

constexpr size_t kMinSecretLength = 8;

size_t alnumCount(std::string_view s) {
    size_t n = 0;
    for (unsigned char c : s) n += std::isalnum(c) ? 1 : 0;
    return n;
}

// A token's kind prefix, kept when what follows it still has enough to vary.
size_t keptPrefix(const std::string& real) {
    for (size_t i = 0; i < real.size() && i < 12; ++i) {
        if (real[i] != '_' && real[i] != '-') continue;
        return alnumCount(std::string_view(real).substr(i + 1)) >= kMinSecretLength ? i + 1 : 0;
    }
    return 0;
}

}  // namespace

std::string placeholderFor(const std::string& real) {
    static constexpr const char* kDigits = "0123456789";
    static constexpr const char* kLower = "abcdefghijklmnopqrstuvwxyz";
    static constexpr const char* kUpper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::random_device device;
    std::mt19937_64 rng((static_cast<std::uint64_t>(device()) << 32) ^ device());
    const size_t keep = keptPrefix(real);
    for (;;) {
        std::string out = real;
        for (size_t i = keep; i < out.size(); ++i) {
            const auto c = static_cast<unsigned char>(out[i]);
            if (std::isdigit(c)) out[i] = kDigits[rng() % 10];
            else if (std::islower(c)) out[i] = kLower[rng() % 26];
            else if (std::isupper(c)) out[i] = kUpper[rng() % 26];
        }
        // A value with too few letters and digits to vary could come out the same; such a value
        // is refused by the caller's length check or retried here.
        if (out.find(real) == std::string::npos && real.find(out) == std::string::npos) return out;
    }
}

std::vector<proxy::Credential> secretPlaceholders(const std::map<std::string, std::string>& secrets,
                                                  const SecretHosts& bindings) {
    std::vector<proxy::Credential> out;
    for (const auto& [name, binding] : bindings) {
        auto it = secrets.find(name);
        if (it == secrets.end() || it->second.empty()) continue;
        const std::string& real = it->second;
        if (alnumCount(real) < kMinSecretLength) {
            throw base::Error("secret '" + name + "' is bound to hosts but has " +
                              std::to_string(real.size()) +
                              " characters; a placeholder needs at least 8 letters or digits to "
                              "stand in for it (unbind it, or use a longer secret)");
        }
        proxy::Credential c{.name = name,
                            .value = base::Secret(real),
                            .hosts = binding.hosts,
                            .dummy = placeholderFor(real),
                            .in_bodies = binding.in_bodies};
        proxy::validateCredential(c);
        out.push_back(std::move(c));
    }
    return out;
}

SecretHosts learningBindings(const std::map<std::string, std::string>& secrets, const SecretHosts& bound,
                             const std::vector<std::string>& never) {
    SecretHosts out;
    for (const auto& [name, value] : secrets) {
        if (bound.contains(name) || alnumCount(value) < kMinSecretLength) continue;
        if (std::find(never.begin(), never.end(), value) != never.end()) continue;
        out[name] = {{"*"}, false, "audit mode, to learn where it goes"};
    }
    return out;
}

std::string suggestSecretHosts(const std::vector<std::pair<std::string, std::string>>& sent) {
    std::map<std::string, std::set<std::string>> hosts;
    for (const auto& [name, host] : sent) {
        const bool secret_name = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                                 std::all_of(name.begin(), name.end(), [](unsigned char c) {
                                     return std::isalnum(c) || c == '_' || c == '-';
                                 });
        if (secret_name && !host.empty()) hosts[name].insert(host);
    }
    if (hosts.empty()) return "";
    std::string out =
        "# Secrets the job sent, and where (bind each so jobs see only a placeholder: the runner\n"
        "# config's proxy.secret_hosts, exec --secret-host, or a repository's .nixjail-network.yaml):\n"
        "# secret_hosts:\n";
    for (const auto& [name, set] : hosts) out += fmt::format("#   {}: [{}]\n", name, fmt::join(set, ", "));
    return out;
}

std::pair<std::string, std::vector<std::string>> parseSecretHost(const std::string& flag) {
    const auto eq = flag.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == flag.size()) {
        throw base::Error("--secret-host '" + flag + "': expected NAME=HOST[,HOST...]");
    }
    std::vector<std::string> hosts;
    std::string rest = flag.substr(eq + 1);
    for (size_t start = 0; start <= rest.size();) {
        size_t comma = rest.find(',', start);
        std::string host = rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (host.empty()) throw base::Error("--secret-host '" + flag + "': an empty host");
        hosts.push_back(host);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return {flag.substr(0, eq), hosts};
}

}  // namespace nixjail::runner::network
