// JobCredentials: the one place where a job's real credentials become the dummies it sees. The
// admin's credentials and, when the job plan puts a proxy in front of the job, the forge's tokens
// (github.token, the runtime token): the job's contexts and environment get their dummies, the
// masker gets their real values, and runner-side clients turn a dummy back into the real value
// only for the hosts it is valid on.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "proxy/proxy.h"
#include "runner/network/secret_placeholder.h"
#include "runner/engine/actions_names.h"
#include "runner/actions/secret_masker.h"
#include "runner/job/job_plan.h"
#include "runner/workflow/workflow.h"

namespace nixjail::runner::engine {

class JobCredentials {
  public:
    // `admin`: the runner's configured credentials (injected for every job). `github`: the job's
    // github context, whose forge tokens (token, gitea_runtime_token) become credentials for
    // `forge_hosts` and the runner's `service_hosts` when the plan proxies the job. Every real
    // value is added to `masker`.
    // `secrets` of the job whose names `secret_hosts` binds become placeholders (see
    // network/secret_placeholder.h); the masker gets their real values and placeholders both.
    // With `learn`, the proxy's audit mode: every other secret long enough becomes a placeholder
    // for any host (network::learningBindings), so its records say where each one went.
    // Throws base::Error for a bound secret too short to stand in for.
    JobCredentials(const job::JobPlan& plan, const std::vector<proxy::Credential>& admin,
                   const nlohmann::json& github, const std::vector<std::string>& forge_hosts,
                   const std::vector<std::string>& service_hosts, SecretMasker& masker,
                   const std::map<std::string, std::string>& secrets = {},
                   const network::SecretHosts& secret_hosts = {}, bool learn = false);

    // What the job's proxy injects.
    const std::vector<proxy::Credential>& all() const { return all_; }

    // Replaces every string value that is a real credential with its dummy (github context, env
    // values); no-op when the plan has no proxy (the host executor: steps use real values).
    void hideIn(nlohmann::json& context) const;
    void hideIn(workflow::EnvList& env) const;
    // The secrets context: the given secrets with real values replaced, plus each admin
    // credential's dummy under its name.
    nlohmann::json secretsContext(const std::map<std::string, std::string>& secrets) const;

    // For a runner-side client (a checkout outside the jail): the real value when `value` is the
    // dummy of a credential valid for `url`'s host, else `value` itself.
    std::string realValueFor(const std::string& value, const std::string& url) const;

    // The secrets the job sees as placeholders, with their hosts, for the job's log.
    const std::vector<proxy::Credential>& placeholders() const { return placeholders_; }
    // Who bound each secret that has a placeholder, and to what.
    const network::SecretHosts& bindings() const { return bindings_; }

  private:
    bool hide_;
    std::vector<proxy::Credential> admin_;
    std::vector<proxy::Credential> all_;
    std::vector<proxy::Credential> placeholders_;
    network::SecretHosts bindings_;
};

}  // namespace nixjail::runner::engine
