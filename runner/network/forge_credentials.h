// The forge's tokens of a task (github.token and the runtime token for caches and artifacts) as
// proxy credentials: a jailed job only ever sees dummies of them, and its proxy puts the real
// values back into requests to the forge. Runner-side clients (the checkout cache, outside the
// jail) turn a dummy the job hands them back into the real value with realValueFor().
#pragma once

#include <string>
#include <vector>

#include "proxy/proxy.h"

namespace nixjail::runner::network {

struct ForgeTokens {
    std::string token;          // github.token (also secrets.GITHUB_TOKEN / GITEA_TOKEN)
    std::string runtime_token;  // github.gitea_runtime_token (ACTIONS_RUNTIME_TOKEN)
};

// One credential per non-empty token, valid on forge_hosts only, injected as
// "Authorization: token {token}" / "Authorization: Bearer {token}" headers or wherever the job
// puts the dummy in a header (Basic auth included). Each dummy is fresh and random and keeps the
// token's shape, since tools check it: a token made of hex digits gets hex digits of the same
// length; a JSON Web Token keeps its header and claims (the artifact client reads its run and job
// ids from the runtime token's "scp" claim) with a random signature of the same length; anything
// else gets "nixjail-dummy-" and 32 hex digits. plain_http when server_url is http:// (the
// runner itself sends the token in clear to that forge). Empty when forge_hosts is empty.
//
// The token jobs use for the artifact and cache APIs (ACTIONS_RUNTIME_TOKEN: the runtime token, or
// the token when there is none) is also put back, with the same dummy, into plain-HTTP requests to
// service_hosts: the runner's own services on its host (its actions/cache server), which
// authorise that token.
std::vector<proxy::Credential> forgeCredentials(const ForgeTokens& tokens,
                                                const std::vector<std::string>& forge_hosts,
                                                const std::string& server_url,
                                                const std::vector<std::string>& service_hosts = {});

// What a runner-side client must send to `url` for `value` the job gave it: the real value when
// `value` is the dummy of a credential valid for the URL's host (over https, or http for a
// plain_http credential), else `value` itself: a dummy sent anywhere else stays a dummy.
std::string realValueFor(const std::string& value, const std::string& url,
                         const std::vector<proxy::Credential>& credentials);

// `length` random hex digits (base::randomBytes). Throws base::Error if it fails.
std::string randomHex(size_t length);

}  // namespace nixjail::runner::network
