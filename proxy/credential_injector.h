// Swapping dummy credentials for real ones in request headers, and real ones back out of responses.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http_parser.h"
#include "proxy/proxy.h"

namespace nixjail::proxy {

// Rewrites `headers` of a request to `host`. Only when `tls` is true and the host is one of a
// credential's hosts is its dummy replaced (literally, and inside Basic auth). Returns the name of
// the first credential injected, if any.
std::optional<std::string> injectCredentials(http::Headers& headers,
                                             const std::vector<Credential>& credentials,
                                             std::string_view host, bool tls);

// Replaces any real credential value in response headers by its dummy, so the job never sees one.
void scrubResponseHeaders(http::Headers& headers, const std::vector<Credential>& credentials);

// Throws base::Error naming the credential when it cannot be used safely.
void validateCredential(const Credential& credential);

std::string base64Encode(std::string_view data);
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace nixjail::proxy
