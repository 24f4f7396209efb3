// A repository's own word on its jobs' network, read only where the admin allows it (the daemon's
// proxy.repository_policy, exec --repository-policy). The file is .nixjail-network.yaml at the
// repository's root, at the job's commit:
//
//   rules:                          # the policy's job layer: every layer must allow a request,
//     - host: registry.npmjs.org    # so these can only narrow what the admin allows
//   secret_hosts:                   # secrets the admin left unbound, each bound to its hosts:
//     NPM_TOKEN: [registry.npmjs.org]   # the job sees a placeholder (secret_placeholder.h)
//
// Neither part can widen anything: a bound secret reaches fewer places than an unbound one, whose
// real value the job holds. Bodies stay the admin's choice (SecretBinding::in_bodies).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/policy.h"
#include "runner/network/job_network.h"
#include "runner/network/secret_placeholder.h"

namespace nixjail::runner::network {

inline constexpr const char* kRepositoryNetworkFile = ".nixjail-network.yaml";

struct RepositoryNetwork {
    std::optional<proxy::Policy> rules;  // the job layer; none when the file has no `rules`
    SecretHosts secret_hosts;            // origin: the file
};

// Throws base::Error listing every problem as file:line:col.
RepositoryNetwork parseRepositoryNetwork(std::string_view yaml, const std::string& source);

// The file in `tree` (a working tree or a checkout at the job's commit); nullopt when there is none.
// Throws base::Error for a file that is unreadable, over 64 KiB or invalid.
std::optional<RepositoryNetwork> readRepositoryNetwork(const std::filesystem::path& tree,
                                                       const std::string& shown_as);

// Puts `repo` into `settings`: its rules as the job layer, its bindings of secrets the admin did
// not bind (the admin's binding wins). Returns what the job log should say about it.
std::vector<std::string> applyRepositoryNetwork(RepositoryNetwork repo, NetworkSettings& settings);

}  // namespace nixjail::runner::network
