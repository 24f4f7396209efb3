// A job's credentials: real values for the proxy and the masker, dummies for the job.
#include "runner/engine/job_credentials.h"

#include "runner/network/forge_credentials.h"
#include "runner/network/secret_placeholder.h"

namespace nixjail::runner::engine {

namespace {

std::string text(const nlohmann::json& github, const char* key) {
    return github.contains(key) && github[key].is_string() ? github[key].get<std::string>()
                                                           : std::string();
}

}  // namespace

JobCredentials::JobCredentials(const job::JobPlan& plan, const std::vector<proxy::Credential>& admin,
                               const nlohmann::json& github,
                               const std::vector<std::string>& forge_hosts,
                               const std::vector<std::string>& service_hosts, SecretMasker& masker,
                               const std::map<std::string, std::string>& secrets,
                               const network::SecretHosts& secret_hosts, bool learn)
    : hide_(plan.credentials_as_dummies), admin_(admin), all_(admin) {
    // Without a proxy nothing could put a real value back, so the job keeps the real ones.
    if (!hide_) return;
    std::vector<proxy::Credential> forge = network::forgeCredentials(
        {text(github, "token"), text(github, "gitea_runtime_token")}, forge_hosts,
        text(github, "server_url"), service_hosts);
    bindings_ = secret_hosts;
    if (learn) {
        // A secret holding a value the proxy already injects (the forge's tokens, the admin's
        // credentials) keeps that credential's hosts.
        std::vector<std::string> never;
        for (const auto& c : admin) never.push_back(c.value.reveal());
        for (const auto& c : forge) never.push_back(c.value.reveal());
        bindings_.merge(network::learningBindings(secrets, secret_hosts, never));
    }
    placeholders_ = network::secretPlaceholders(secrets, bindings_);
    for (const auto& p : placeholders_) {
        all_.push_back(p);
        masker.add(p.dummy);  // shown as *** like any secret, should a step print it
    }
    for (auto& cred : forge) all_.push_back(std::move(cred));
    // The real values never reach the job, but are masked should one come back in output.
    for (const auto& c : all_) masker.add(c.value.reveal());
}

void JobCredentials::hideIn(nlohmann::json& context) const {
    if (!hide_) return;
    for (auto& [key, value] : context.items()) {
        if (!value.is_string()) continue;
        for (const auto& cred : all_) {
            if (value.get<std::string>() == cred.value.reveal()) value = cred.dummy;
        }
    }
}

void JobCredentials::hideIn(workflow::EnvList& env) const {
    if (!hide_) return;
    for (auto& [k, v] : env) {
        for (const auto& cred : all_) {
            if (v == cred.value.reveal()) v = cred.dummy;
        }
    }
}

nlohmann::json JobCredentials::secretsContext(const std::map<std::string, std::string>& secrets) const {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : secrets) out[k] = v;
    if (!hide_) return out;
    hideIn(out);
    for (const auto& cred : admin_) out[cred.name] = cred.dummy;
    return out;
}

std::string JobCredentials::realValueFor(const std::string& value, const std::string& url) const {
    return network::realValueFor(value, url, all_);
}

}  // namespace nixjail::runner::engine
