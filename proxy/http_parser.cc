// HTTP/1.1 heads and body framing; see http_parser.h for what is accepted.
#include "proxy/http_parser.h"

#include <algorithm>
#include <charconv>

#include "runner/base/ascii.h"

namespace nixjail::proxy::http {

using base::Result;
using base::unexpected;

namespace {

bool isTokenChar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isToken(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), isTokenChar);
}

bool isFieldValueChar(char c) {
    auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
}

std::string_view trimOws(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Splits the head into lines (CRLF only) and parses the header lines after the start line.
Result<std::vector<std::string_view>, std::string> splitLines(std::string_view head) {
    auto end = findHeadEnd(head);
    if (!end || *end != head.size())
        return unexpected(std::string("head does not end in CRLF CRLF"));
    head.remove_suffix(4);
    std::vector<std::string_view> lines;
    while (true) {
        auto pos = head.find("\r\n");
        std::string_view line = head.substr(0, pos);
        if (line.find('\r') != std::string_view::npos ||
            line.find('\n') != std::string_view::npos) {
            return unexpected(std::string("bare CR or LF in head"));
        }
        lines.push_back(line);
        if (pos == std::string_view::npos) break;
        head.remove_prefix(pos + 2);
    }
    return lines;
}

Result<Headers, std::string> parseHeaderLines(const std::vector<std::string_view>& lines) {
    Headers headers;
    for (std::size_t i = 1; i < lines.size(); ++i) {
        std::string_view line = lines[i];
        if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
            return unexpected(std::string("obsolete line folding in header"));
        }
        auto colon = line.find(':');
        if (colon == std::string_view::npos)
            return unexpected(std::string("header line without ':'"));
        std::string_view name = line.substr(0, colon);
        if (!isToken(name)) return unexpected("invalid header name '" + std::string(name) + "'");
        std::string_view value = trimOws(line.substr(colon + 1));
        if (!std::all_of(value.begin(), value.end(), isFieldValueChar)) {
            return unexpected("invalid character in header '" + std::string(name) + "'");
        }
        headers.push_back({std::string(name), std::string(value)});
    }
    return headers;
}

bool isHttpVersion(std::string_view v) { return v == "HTTP/1.1" || v == "HTTP/1.0"; }

bool parseUint(std::string_view s, std::uint64_t& out, int base = 10) {
    if (s.empty() || s.size() > 16) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
    return ec == std::errc() && p == s.data() + s.size();
}

Result<BodyFraming, std::string> framingFromHeaders(const Headers& headers, bool is_request) {
    const Header* te = findHeader(headers, "Transfer-Encoding");
    bool has_cl = findHeader(headers, "Content-Length") != nullptr;
    if (te) {
        // A message with both is the classic request-smuggling shape: refuse rather than guess.
        if (has_cl) return unexpected(std::string("both Transfer-Encoding and Content-Length"));
        std::string_view v = trimOws(te->value);
        auto comma = v.rfind(',');
        std::string_view last = trimOws(comma == std::string_view::npos ? v : v.substr(comma + 1));
        if (!equalsIgnoreCase(last, "chunked")) {
            if (is_request)
                return unexpected(std::string("request Transfer-Encoding is not chunked"));
            return BodyFraming{BodyFraming::Kind::kUntilClose, 0};
        }
        for (const auto& h : headers) {
            if (equalsIgnoreCase(h.name, "Transfer-Encoding") && &h != te) {
                return unexpected(std::string("repeated Transfer-Encoding header"));
            }
        }
        return BodyFraming{BodyFraming::Kind::kChunked, 0};
    }
    if (has_cl) {
        std::optional<std::uint64_t> length;
        for (const auto& h : headers) {
            if (!equalsIgnoreCase(h.name, "Content-Length")) continue;
            std::uint64_t n = 0;
            if (!parseUint(trimOws(h.value), n)) {
                return unexpected("invalid Content-Length '" + h.value + "'");
            }
            if (length && *length != n)
                return unexpected(std::string("conflicting Content-Length"));
            length = n;
        }
        if (*length == 0) return BodyFraming{BodyFraming::Kind::kNone, 0};
        return BodyFraming{BodyFraming::Kind::kLength, *length};
    }
    return BodyFraming{is_request ? BodyFraming::Kind::kNone : BodyFraming::Kind::kUntilClose, 0};
}

}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) { return base::asciiEqualsIgnoreCase(a, b); }

std::optional<std::size_t> findHeadEnd(std::string_view buf) {
    auto pos = buf.find("\r\n\r\n");
    if (pos == std::string_view::npos) return std::nullopt;
    return pos + 4;
}

Result<RequestHead, std::string> parseRequestHead(std::string_view head) {
    auto lines = splitLines(head);
    if (!lines) return unexpected(lines.error());
    std::string_view start = lines->front();
    auto sp1 = start.find(' ');
    auto sp2 = sp1 == std::string_view::npos ? sp1 : start.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || start.find(' ', sp2 + 1) != std::string_view::npos) {
        return unexpected(std::string("malformed request line"));
    }
    RequestHead req;
    req.method = std::string(start.substr(0, sp1));
    req.target = std::string(start.substr(sp1 + 1, sp2 - sp1 - 1));
    req.version = std::string(start.substr(sp2 + 1));
    if (!isToken(req.method)) return unexpected(std::string("invalid method"));
    if (req.target.empty() || !std::all_of(req.target.begin(), req.target.end(), [](char c) {
            auto u = static_cast<unsigned char>(c);
            return u > 0x20 && u < 0x7f;
        })) {
        return unexpected(std::string("invalid request target"));
    }
    if (!isHttpVersion(req.version)) return unexpected("unsupported version '" + req.version + "'");
    auto headers = parseHeaderLines(*lines);
    if (!headers) return unexpected(headers.error());
    req.headers = std::move(*headers);
    return req;
}

Result<ResponseHead, std::string> parseResponseHead(std::string_view head) {
    auto lines = splitLines(head);
    if (!lines) return unexpected(lines.error());
    std::string_view start = lines->front();
    if (start.size() < 12 || start[8] != ' ' || (start.size() > 12 && start[12] != ' ')) {
        return unexpected(std::string("malformed status line"));
    }
    ResponseHead res;
    res.version = std::string(start.substr(0, 8));
    if (!isHttpVersion(res.version)) return unexpected("unsupported version '" + res.version + "'");
    std::uint64_t status = 0;
    if (!parseUint(start.substr(9, 3), status) || status < 100 || status > 999) {
        return unexpected(std::string("invalid status code"));
    }
    res.status = static_cast<int>(status);
    if (start.size() > 13) res.reason = std::string(start.substr(13));
    if (!std::all_of(res.reason.begin(), res.reason.end(), isFieldValueChar)) {
        return unexpected(std::string("invalid reason phrase"));
    }
    auto headers = parseHeaderLines(*lines);
    if (!headers) return unexpected(headers.error());
    res.headers = std::move(*headers);
    return res;
}

namespace {
void appendHeaders(std::string& out, const Headers& headers) {
    for (const auto& h : headers) {
        out += h.name;
        out += ": ";
        out += h.value;
        out += "\r\n";
    }
    out += "\r\n";
}
}  // namespace

std::string serializeRequestHead(const RequestHead& head) {
    std::string out = head.method + " " + head.target + " " + head.version + "\r\n";
    appendHeaders(out, head.headers);
    return out;
}

std::string serializeResponseHead(const ResponseHead& head) {
    std::string out = head.version + " " + std::to_string(head.status) + " " + head.reason + "\r\n";
    appendHeaders(out, head.headers);
    return out;
}

const Header* findHeader(const Headers& headers, std::string_view name) {
    for (const auto& h : headers) {
        if (equalsIgnoreCase(h.name, name)) return &h;
    }
    return nullptr;
}

void removeHeader(Headers& headers, std::string_view name) {
    std::erase_if(headers, [&](const Header& h) { return equalsIgnoreCase(h.name, name); });
}

bool headerHasToken(const Headers& headers, std::string_view name, std::string_view token) {
    for (const auto& h : headers) {
        if (!equalsIgnoreCase(h.name, name)) continue;
        std::string_view v = h.value;
        while (!v.empty()) {
            auto comma = v.find(',');
            if (equalsIgnoreCase(trimOws(v.substr(0, comma)), token)) return true;
            if (comma == std::string_view::npos) break;
            v.remove_prefix(comma + 1);
        }
    }
    return false;
}

Result<BodyFraming, std::string> requestBodyFraming(const RequestHead& head) {
    return framingFromHeaders(head.headers, true);
}

Result<BodyFraming, std::string> responseBodyFraming(const ResponseHead& head,
                                                     std::string_view request_method) {
    if (request_method == "HEAD" || head.status < 200 || head.status == 204 || head.status == 304) {
        return BodyFraming{BodyFraming::Kind::kNone, 0};
    }
    if (request_method == "CONNECT" && head.status < 300)
        return BodyFraming{BodyFraming::Kind::kNone, 0};
    return framingFromHeaders(head.headers, false);
}

BodyTracker::BodyTracker(BodyFraming framing) : framing_(framing) {
    switch (framing.kind) {
        case BodyFraming::Kind::kNone:
            state_ = State::kDone;
            break;
        case BodyFraming::Kind::kLength:
            state_ = State::kData;
            remaining_ = framing.length;
            break;
        case BodyFraming::Kind::kChunked:
            state_ = State::kSize;
            break;
        case BodyFraming::Kind::kUntilClose:
            state_ = State::kData;
            break;
    }
}

std::size_t BodyTracker::fail(std::string message, std::size_t used) {
    state_ = State::kError;
    error_ = std::move(message);
    return used;
}

std::size_t BodyTracker::consume(std::string_view data) {
    if (framing_.kind == BodyFraming::Kind::kUntilClose) return data.size();
    if (framing_.kind == BodyFraming::Kind::kLength) {
        if (state_ == State::kDone) return 0;
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size()));
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::kDone;
        return n;
    }
    std::size_t i = 0;
    while (i < data.size() && state_ != State::kDone && state_ != State::kError) {
        char c = data[i];
        switch (state_) {
            case State::kSize: {
                int digit = -1;
                if (c >= '0' && c <= '9')
                    digit = c - '0';
                else if (c >= 'a' && c <= 'f')
                    digit = c - 'a' + 10;
                else if (c >= 'A' && c <= 'F')
                    digit = c - 'A' + 10;
                if (digit >= 0) {
                    if (++size_digits_ > 15) return fail("chunk size too large", i);
                    remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(digit);
                } else if (size_digits_ == 0) {
                    return fail("chunk size missing", i);
                } else if (c == ';' || c == ' ' || c == '\t') {
                    state_ = State::kSizeExt;
                } else if (c == '\r') {
                    state_ = State::kSizeLf;
                } else {
                    return fail("invalid character in chunk size", i);
                }
                ++i;
                break;
            }
            case State::kSizeExt:
                if (c == '\r')
                    state_ = State::kSizeLf;
                else if (c == '\n' || !isFieldValueChar(c))
                    return fail("invalid chunk extension", i);
                ++i;
                break;
            case State::kSizeLf:
                if (c != '\n') return fail("chunk size line not ended by CRLF", i);
                ++i;
                size_digits_ = 0;
                if (remaining_ == 0) {
                    last_chunk_ = true;
                    state_ = State::kTrailer;
                    trailer_line_ = 0;
                } else {
                    state_ = State::kData;
                }
                break;
            case State::kData: {
                auto n =
                    static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size() - i));
                remaining_ -= n;
                i += n;
                if (remaining_ == 0) state_ = State::kDataCr;
                break;
            }
            case State::kDataCr:
                if (c != '\r') return fail("chunk data not followed by CRLF", i);
                state_ = State::kDataLf;
                ++i;
                break;
            case State::kDataLf:
                if (c != '\n') return fail("chunk data not followed by CRLF", i);
                state_ = State::kSize;
                ++i;
                break;
            case State::kTrailer:
                // Trailer fields pass through unchanged; an empty line ends the message.
                if (++trailer_total_ > kMaxHeadSize) return fail("trailer section too large", i);
                if (trailer_cr_) {
                    if (c != '\n') return fail("bare CR in trailer", i);
                    trailer_cr_ = false;
                    if (trailer_line_ == 0) state_ = State::kDone;
                    trailer_line_ = 0;
                } else if (c == '\r') {
                    trailer_cr_ = true;
                } else if (c == '\n') {
                    return fail("bare LF in trailer", i);
                } else {
                    ++trailer_line_;
                }
                ++i;
                break;
            case State::kDone:
            case State::kError:
                break;
        }
    }
    return i;
}

Result<Authority, std::string> parseAuthority(std::string_view text, std::uint16_t default_port) {
    Authority a;
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos)
            return unexpected(std::string("unterminated IPv6 literal"));
        host = text.substr(1, close - 1);
        std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return unexpected(std::string("garbage after IPv6 literal"));
            port = rest.substr(1);
        }
    } else {
        auto colon = text.rfind(':');
        host = text.substr(0, colon);
        if (colon != std::string_view::npos) port = text.substr(colon + 1);
    }
    if (host.empty()) return unexpected("no host in '" + std::string(text) + "'");
    for (char c : host) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == ':' || c == '_';
        if (!ok) return unexpected("invalid character in host '" + std::string(host) + "'");
    }
    a.host.reserve(host.size());
    for (char c : host) a.host.push_back(base::asciiLower(c));
    if (!a.host.empty() && a.host.back() == '.') a.host.pop_back();
    if (port.empty()) {
        if (default_port == 0) return unexpected("no port in '" + std::string(text) + "'");
        a.port = default_port;
    } else {
        std::uint64_t p = 0;
        if (!parseUint(port, p) || p == 0 || p > 65535) {
            return unexpected("invalid port in '" + std::string(text) + "'");
        }
        a.port = static_cast<std::uint16_t>(p);
    }
    return a;
}

Result<AbsoluteTarget, std::string> parseAbsoluteTarget(std::string_view target) {
    auto sep = target.find("://");
    if (sep == std::string_view::npos) return unexpected(std::string("not an absolute URL"));
    AbsoluteTarget t;
    for (char c : target.substr(0, sep)) t.scheme.push_back(base::asciiLower(c));
    std::uint16_t default_port = 0;
    if (t.scheme == "http")
        default_port = 80;
    else if (t.scheme == "https")
        default_port = 443;
    else
        return unexpected("unsupported scheme '" + t.scheme + "'");
    std::string_view rest = target.substr(sep + 3);
    auto slash = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, slash);
    if (authority.find('@') != std::string_view::npos) {
        return unexpected(std::string("user info in proxy request URL"));
    }
    auto a = parseAuthority(authority, default_port);
    if (!a) return unexpected(a.error());
    t.authority = std::move(*a);
    t.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if (t.path.front() == '?') t.path.insert(0, "/");
    return t;
}

std::string_view pathWithoutQuery(std::string_view target) {
    auto q = target.find_first_of("?#");
    return target.substr(0, q);
}

base::Result<std::string, std::string> normalizePath(std::string_view path) {
    if (path.empty() || path.front() != '/')
        return unexpected(std::string("path does not start with '/'"));
    std::string decoded;
    decoded.reserve(path.size());
    for (std::size_t i = 0; i < path.size(); ++i) {
        char c = path[i];
        if (c == '%') {
            if (i + 2 >= path.size()) return unexpected(std::string("truncated %-escape in path"));
            std::uint64_t v = 0;
            if (!parseUint(path.substr(i + 1, 2), v, 16))
                return unexpected(std::string("invalid %-escape in path"));
            c = static_cast<char>(v);
            i += 2;
        }
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            return unexpected(std::string("control character in path"));
        }
        decoded.push_back(c);
    }
    // Segment walk (RFC 3986 5.2.4) with empty segments dropped.
    std::vector<std::string_view> segments;
    std::string_view rest = decoded;
    bool trailing_slash = false;
    while (!rest.empty()) {
        auto slash = rest.find('/');
        std::string_view seg = rest.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
        trailing_slash = slash != std::string_view::npos && rest.empty();
        if (seg.empty() || seg == ".") {
            if (seg == ".") trailing_slash = rest.empty() || trailing_slash;
            continue;
        }
        if (seg == "..") {
            if (!segments.empty()) segments.pop_back();
            trailing_slash = rest.empty() || trailing_slash;
            continue;
        }
        segments.push_back(seg);
    }
    std::string out;
    for (auto seg : segments) {
        out += '/';
        out += seg;
    }
    if (out.empty() || trailing_slash) out += '/';
    return out;
}

}  // namespace nixjail::proxy::http
