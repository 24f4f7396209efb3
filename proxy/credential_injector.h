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
// auth). Returns the names of the credentials injected, in `credentials`' order.
std::vector<std::string> injectCredentials(http::Headers& headers,
                                           const std::vector<Credential>& credentials,
                                           std::string_view host, bool tls);

// The same for the query of an origin-form request target ("/path?key=DUMMY"): the dummy, as it
// is or percent-encoded, becomes the percent-encoded real value. The path is left alone.
// Returns the names of the credentials injected.
std::vector<std::string> injectIntoQuery(std::string& target, const std::vector<Credential>& credentials,
                                         std::string_view host, bool tls);

// Replaces any real credential value in response headers by its dummy, so the job never sees one.
void scrubResponseHeaders(http::Headers& headers, const std::vector<Credential>& credentials);

// Swaps byte strings in a body that streams through in pieces. Every swap keeps the length, so
// Content-Length and chunk framing stay valid. Only a tail that could be the start of something to
// swap is held back, so streams ending on CRLF or ordinary text are not delayed. A value split by
// chunk framing is not seen.
class StreamRewriter {
  public:
    struct Swap {
        std::string from;
        std::string to;  // as long as `from`
        std::string name;  // the credential's
    };
    StreamRewriter() = default;
    explicit StreamRewriter(std::vector<Swap> swaps);
    bool active() const { return !swaps_.empty(); }
    // Returns the bytes of (held-back tail + data) that are safe to send now.
    std::string feed(std::string_view data);
    // Whether feed(data) would return `data` itself and hold nothing back: nothing to swap in it,
    // no held-back tail, and no end that could start a swap. Then the caller may send `data`
    // as it is instead of a copy.
    bool passesUnchanged(std::string_view data) const;
    // The held-back tail, at the end of the body.
    std::string finish();
    // The credentials swapped so far, in the order first seen.
    const std::vector<std::string>& swapped() const { return swapped_; }

  private:
    std::vector<Swap> swaps_;
    std::string tail_;
    std::vector<std::string> swapped_;
};

// For response bodies: each real value becomes its dummy, or '*'s where the dummy has another
// length. Compressed bodies are not looked into.
StreamRewriter responseBodyScrubber(const std::vector<Credential>& credentials);

// For the body of a request to `host`: the dummy of each credential with in_bodies that `host` is
// one of the hosts of (over TLS, or plain_http), as it is and percent-encoded, becomes its real
// value. Inactive when `headers` say the body is compressed (Content-Encoding).
StreamRewriter requestBodyInjector(const std::vector<Credential>& credentials,
                                   const http::Headers& headers, std::string_view host, bool tls);

// Throws base::Error naming the credential when it cannot be used safely.
void validateCredential(const Credential& credential);

using base::base64Decode;
using base::base64Encode;

}  // namespace nixjail::proxy
