// HTTP/1.1 message parsing for the proxy: request/response heads, body framing, chunked framing.
// Pure functions over bytes, strict on purpose (no obs-fold, CRLF only, no CL+TE), and fuzzed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/base/result.h"

namespace nixjail::proxy::http {

// A head larger than this is refused (431), so one client cannot make the proxy buffer without end.
inline constexpr std::size_t kMaxHeadSize = 64 * 1024;

struct Header {
    std::string name;
    std::string value;
};
using Headers = std::vector<Header>;

struct RequestHead {
    std::string method;
    std::string target;   // as sent: absolute-form, authority-form (CONNECT) or origin-form
    std::string version;  // "HTTP/1.1" or "HTTP/1.0"
    Headers headers;
};

struct ResponseHead {
    std::string version;
    int status = 0;
    std::string reason;
    Headers headers;
};

// Length of the head including the blank line, or nullopt while "\r\n\r\n" has not arrived yet.
std::optional<std::size_t> findHeadEnd(std::string_view buf);

base::Result<RequestHead, std::string> parseRequestHead(std::string_view head);
base::Result<ResponseHead, std::string> parseResponseHead(std::string_view head);
std::string serializeRequestHead(const RequestHead& head);
std::string serializeResponseHead(const ResponseHead& head);

// Case-insensitive header lookup; the first occurrence wins.
const Header* findHeader(const Headers& headers, std::string_view name);
void removeHeader(Headers& headers, std::string_view name);
// True when the comma-separated header value list contains `token` (case-insensitive).
bool headerHasToken(const Headers& headers, std::string_view name, std::string_view token);
bool equalsIgnoreCase(std::string_view a, std::string_view b);

struct BodyFraming {
    enum class Kind { kNone, kLength, kChunked, kUntilClose };
    Kind kind = Kind::kNone;
    std::uint64_t length = 0;  // for kLength
};

// Requests never read until close: without Content-Length or chunked they have no body.
base::Result<BodyFraming, std::string> requestBodyFraming(const RequestHead& head);
base::Result<BodyFraming, std::string> responseBodyFraming(const ResponseHead& head,
                                                           std::string_view request_method);

// Tracks where a body ends while its bytes stream through unchanged. consume() returns how many
// of `data` belong to the body; the rest (if done()) belongs to the next message.
class BodyTracker {
  public:
    explicit BodyTracker(BodyFraming framing);
    std::size_t consume(std::string_view data);
    bool done() const { return state_ == State::kDone; }
    bool failed() const { return state_ == State::kError; }
    const std::string& error() const { return error_; }
    BodyFraming framing() const { return framing_; }

  private:
    enum class State { kSize, kSizeExt, kSizeLf, kData, kDataCr, kDataLf, kTrailer, kDone, kError };
    std::size_t fail(std::string message, std::size_t used);

    BodyFraming framing_;
    State state_;
    std::uint64_t remaining_ = 0;
    int size_digits_ = 0;
    bool last_chunk_ = false;
    std::size_t trailer_line_ = 0;  // bytes in the current trailer line (0 = at line start)
    std::size_t trailer_total_ = 0;
    bool trailer_cr_ = false;
    std::string error_;
};

// Authority "host:port" or "[v6]:port" (port optional when default_port > 0).
struct Authority {
    std::string host;  // lower-cased, without brackets
    std::uint16_t port = 0;
};
base::Result<Authority, std::string> parseAuthority(std::string_view text,
                                                    std::uint16_t default_port);

// "http://host[:port]/path?query" -> authority + origin-form path ("/" when empty).
struct AbsoluteTarget {
    std::string scheme;  // lower-cased
    Authority authority;
    std::string path;
};
base::Result<AbsoluteTarget, std::string> parseAbsoluteTarget(std::string_view target);

// The path part of an origin-form target, without the query.
std::string_view pathWithoutQuery(std::string_view target);

// The path as servers will interpret it, which is what policy rules must see: %XX decoded, "."
// and ".." segments resolved, runs of '/' merged. Otherwise "/%61dmin" or "/x/../admin" would slip
// past a rule denying "/admin/.*". Fails on bad escapes and on decoded control characters or NUL.
base::Result<std::string, std::string> normalizePath(std::string_view path);

}  // namespace nixjail::proxy::http
