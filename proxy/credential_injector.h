// Swapping dummy credentials for real ones in request headers, and real ones back out of responses.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http_parser.h"
#include "runner/base/base64.h"
#include "proxy/proxy.h"

namespace nixjail::proxy {

// Whether `host` is one of the credential's hosts (exact names or globs).
bool credentialAllowsHost(const Credential& credential, std::string_view host);

// Rewrites `headers` of a request to `host`. Only when the host is one of a credential's hosts and
// `tls` is true (or the credential is plain_http) is its dummy replaced (literally, and inside Basic
// auth). Returns the name of the first credential injected, if any.
std::optional<std::string> injectCredentials(http::Headers& headers,
                                             const std::vector<Credential>& credentials,
                                             std::string_view host, bool tls);

// The same for the query of an origin-form request target ("/path?key=DUMMY"): the dummy, as it
// is or percent-encoded, becomes the percent-encoded real value. The path is left alone.
// Returns the name of the first credential injected, if any.
std::optional<std::string> injectIntoQuery(std::string& target, const std::vector<Credential>& credentials,
                                           std::string_view host, bool tls);

// Replaces any real credential value in response headers by its dummy, so the job never sees one.
void scrubResponseHeaders(http::Headers& headers, const std::vector<Credential>& credentials);

// Masks real credential values in a body that streams through in pieces: each occurrence becomes
// '*' of the same length, so Content-Length and chunk framing stay valid. Only a tail that could be
// the start of a value is held back, so streams ending on CRLF or ordinary text are not delayed.
// Compressed bodies are not looked into.
class StreamScrubber {
  public:
    explicit StreamScrubber(const std::vector<Credential>& credentials);
    bool active() const { return !needles_.empty(); }
    // Returns the bytes of (held-back tail + data) that are safe to send now.
    std::string feed(std::string_view data);
    // The held-back tail, at the end of the body.
    std::string finish();

  private:
    std::vector<std::string> needles_;
    std::string tail_;
};

// Throws base::Error naming the credential when it cannot be used safely.
void validateCredential(const Credential& credential);

using base::base64Decode;
using base::base64Encode;

}  // namespace nixjail::proxy
