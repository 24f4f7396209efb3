// See job_network.h.
#include "runner/network/job_network.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/network/anonymous_netns.h"

namespace nixjail::runner::network {

namespace fs = std::filesystem;

std::string urlHost(const std::string& url) {
    auto scheme = url.find("://");
    if (scheme == std::string::npos) return "";
    std::string rest = url.substr(scheme + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
    if (rest.starts_with("[")) return rest.substr(1, rest.find(']') - 1);
    rest = rest.substr(0, rest.find(':'));
    for (auto& c : rest) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return rest;
}

proxy::Policy jobPolicy(const NetworkSettings& settings,
                        const std::vector<std::string>& forge_hosts) {
    proxy::Policy composed =
        proxy::Policy::compose(settings.admin_policy, settings.label_policy, settings.job_policy);
    std::vector<proxy::PolicyRule> forge;
    for (const auto& host : forge_hosts) {
        if (host.empty()) continue;
        proxy::PolicyRule rule;
        rule.host = proxy::HostPattern::literalOrGlob(host);
        rule.origin = "the job's forge";
        forge.push_back(std::move(rule));
    }
    for (const auto& host : settings.service_hosts) {
        proxy::PolicyRule rule;
        rule.host = proxy::HostPattern::literalOrGlob(host);
        rule.origin = "the runner's own service";
        forge.push_back(std::move(rule));
    }
    if (forge.empty()) return composed.empty() ? proxy::Policy::fromRules("runner", {}) : composed;
    return composed.withRulesFirstInEveryLayer(forge, "runner");
}

std::string describeAudit(const proxy::AuditRecord& r) {
    std::string target;
    const std::string host = r.host.find(':') != std::string::npos ? "[" + r.host + "]" : r.host;
    if (r.method == "CONNECT") {
        target = host + ":" + std::to_string(r.port);
    } else if (r.port == 443) {
        target = "https://" + host + r.path;
    } else if (r.port == 80) {
        target = "http://" + host + r.path;
    } else {
        target = host + ":" + std::to_string(r.port) + r.path;
    }
    std::string verb = r.decision == proxy::PolicyDecision::kAllow ? "allowed"
                       : r.enforced                                ? "denied"
                                                                   : "would deny (audit mode)";
    std::string out = verb + " " + r.method + " " + target + " (rule: " + r.rule + ")";
    if (!r.credentials.empty()) {
        out += fmt::format(" with credential{} '{}'", r.credentials.size() == 1 ? "" : "s",
                           fmt::join(r.credentials, "', '"));
    }
    if (r.status) out += " -> " + std::to_string(r.status);
    if (!r.error.empty()) out += ": " + r.error;
    return out;
}

JobNetwork::JobNetwork(const NetworkSettings& settings, JobNetworkSpec spec)
    : spec_(std::move(spec)) {
    for (const auto& c : settings.credentials) dummies_[c.name] = c.dummy;
    // Loopback names stay off the proxy (the job's own servers), unless the runner pinned one
    // for its jobs (a forge on the runner's host): requests to it must go through the proxy.
    for (const char* local : {"localhost", "127.0.0.1"}) {
        if (settings.host_overrides.count(local)) continue;
        no_proxy_ += (no_proxy_.empty() ? "" : ",") + std::string(local);
    }
    if (spec_.own_namespace) netns_ = spec_.netns ? std::move(spec_.netns) : createAnonymousNetns();

    proxy::ProxyConfig config;
    config.policy = jobPolicy(settings, spec_.forge_hosts);
    config.credentials = settings.credentials;
    config.listen_netns_fd = spec_.own_namespace ? netns_.get() : -1;
    config.listen_address = "127.0.0.1";
    config.extra_upstream_ca_file = settings.extra_upstream_ca_file;
    config.upstream_trust = settings.upstream_trust;
    config.authority = settings.authority;
    config.host_overrides = settings.host_overrides;
    config.timeouts = settings.timeouts;
    config.audit_only = settings.audit_only;
    config.logger = spec_.logger;
    config.audit = [queue = audit_](const proxy::AuditRecord& record) {
        std::lock_guard lock(queue->mu);
        queue->records.push_back(record);
    };
    proxy_.emplace(proxy::startProxy(std::move(config)));

    fs::create_directories(spec_.ca_dir_host);
    fs::permissions(spec_.ca_dir_host, fs::perms::owner_all | fs::perms::group_read |
                                           fs::perms::group_exec | fs::perms::others_read |
                                           fs::perms::others_exec);
    base::writeFileAtomic(caFileHost(), proxy_->caCertificatePem(), 0644);
    if (spec_.logger) {
        spec_.logger->debug("network: proxy on 127.0.0.1:{} in {} job={}", proxy_->port(),
                            spec_.own_namespace ? "the job's own namespace" : "the runner's loopback",
                            spec_.job_id);
    }
}

JobNetwork::~JobNetwork() { stop(); }

void JobNetwork::stop() {
    if (proxy_) proxy_->stop();
}

std::uint16_t JobNetwork::proxyPort() const { return proxy_->port(); }

std::vector<std::pair<std::string, std::string>> JobNetwork::environment() const {
    const std::string url = "http://127.0.0.1:" + std::to_string(proxy_->port());
    const std::string ca = caFileJail().string();
    std::vector<std::pair<std::string, std::string>> env{{"HTTP_PROXY", url},
                                                         {"HTTPS_PROXY", url},
                                                         {"http_proxy", url},
                                                         {"https_proxy", url},
                                                         {"NO_PROXY", no_proxy_},
                                                         {"no_proxy", no_proxy_}};
    for (const char* var : {"SSL_CERT_FILE", "NIX_SSL_CERT_FILE", "CURL_CA_BUNDLE",
                            "GIT_SSL_CAINFO", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"}) {
        env.emplace_back(var, ca);
    }
    return env;
}

std::map<std::string, std::string> JobNetwork::credentialDummies() const { return dummies_; }

std::vector<proxy::AuditRecord> JobNetwork::takeAuditRecords() {
    std::lock_guard lock(audit_->mu);
    return std::exchange(audit_->records, {});
}

}  // namespace nixjail::runner::network
