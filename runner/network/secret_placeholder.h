// Secret placeholders: a workflow secret the admin binds to hosts reaches the job only as a
// per-job random dummy of the same shape; the job's proxy puts the real value back in requests
// to those hosts (headers, Basic auth, query; bodies where the admin allows) and turns it back into
// the dummy in responses.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "proxy/proxy.h"

namespace nixjail::runner::network {

// The hosts (names or globs, as in policy rules) a secret's value is for.
struct SecretBinding {
    std::vector<std::string> hosts;
    bool in_bodies = false;  // also swapped in request bodies (the admin's choice only)
    std::string origin;      // who bound it, for the job log: "runner config", a repository file
};

// Workflow secret name -> its binding.
using SecretHosts = std::map<std::string, SecretBinding>;

// A random value of `real`'s shape: the same length, a digit for a digit, a lower- or upper-case
// letter for one, every other character kept, and a prefix up to the first '_' or '-' in the
// first 12 characters kept ("ghp_", "glpat-"), so tools that check a token's form accept it.
// Never equal to `real` and never overlapping it.
std::string placeholderFor(const std::string& real);

// The credentials for the job's bound secrets that it has (unbound and absent ones are left
// alone). Throws base::Error for a bound secret too short (under 8 characters) to stand in for.
std::vector<proxy::Credential> secretPlaceholders(const std::map<std::string, std::string>& secrets,
                                                  const SecretHosts& bindings);

// Audit mode: each secret the job has that `bound` leaves unbound, for any host ("*"). The job
// then works as with the real value while it sees only a placeholder, and the proxy's records say
// where each was sent (`policy suggest` turns them into bindings). Left out: secrets too short to
// stand in for, and any whose value is in `never` (the forge's tokens, the admin's credentials:
// they keep their own hosts).
SecretHosts learningBindings(const std::map<std::string, std::string>& secrets, const SecretHosts& bound,
                             const std::vector<std::string>& never);

// For `policy suggest`: the hosts each secret was sent to, from (credential name, host) pairs of
// audit records, as a commented-out `secret_hosts:` block (so the output stays a policy file) to
// copy into proxy.secret_hosts or a repository's .nixjail-network.yaml. Names that are not
// secret names (the forge's tokens) are left out; "" when nothing is left.
std::string suggestSecretHosts(const std::vector<std::pair<std::string, std::string>>& sent);

// "NAME=host1,host2" (exec's --secret-host); throws base::Error naming the flag's value.
std::pair<std::string, std::vector<std::string>> parseSecretHost(const std::string& flag);

}  // namespace nixjail::runner::network
