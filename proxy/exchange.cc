// One request/response exchange: target, policy, credential injection, upstream, streamed bodies.
#include <algorithm>

#include "proxy/client_session.h"
#include "proxy/credential_injector.h"
#include "proxy/proxy_context.h"

namespace nixjail::proxy {

using namespace asio::experimental::awaitable_operators;

namespace {

// Long paths make std::regex recurse deeply; nothing legitimate needs more.
constexpr std::size_t kMaxPathLength = 8192;

// Connection-level headers of the client's hop: never forwarded.
constexpr const char* kHopHeaders[] = {
    "Proxy-Connection", "Proxy-Authorization", "Proxy-Authenticate", "Keep-Alive", "TE", "Expect"};

bool wantsKeepAlive(const std::string& version, const http::Headers& headers) {
    if (http::headerHasToken(headers, "Connection", "close")) return false;
    if (version == "HTTP/1.0") return http::headerHasToken(headers, "Connection", "keep-alive");
    return true;
}

std::string hostHeaderValue(const http::Authority& a, bool tls) {
    std::string host = a.host.find(':') != std::string::npos ? "[" + a.host + "]" : a.host;
    if (a.port != (tls ? 443 : 80)) host += ":" + std::to_string(a.port);
    return host;
}

}  // namespace

asio::awaitable<bool> ClientSession::forward(http::RequestHead req) {
    AuditRecord rec;
    rec.time = std::chrono::system_clock::now();
    rec.method = req.method;
    // Audit exactly once, whatever way the exchange ends.
    struct AuditOnExit {
        ProxyContext& ctx;
        AuditRecord& rec;
        ~AuditOnExit() { ctx.audit(rec); }
    } audit_on_exit{ctx_, rec};
    auto fail = [&](int status, std::string reason, std::string text) -> asio::awaitable<bool> {
        rec.status = status;
        rec.error = text;
        co_return co_await respond(status, reason, "nixjail proxy: " + text + "\n", false);
    };

    // 1. Where does the request go?
    http::Authority authority;
    std::string origin;
    bool tls = false;
    if (tunnel_) {
        authority = *tunnel_;
        tls = tunnel_tls_;
        if (req.method == "CONNECT") {
            co_return co_await fail(400, "Bad Request", "CONNECT inside a CONNECT tunnel");
        }
        if (req.target.starts_with("/")) {
            origin = req.target;
        } else {
            auto abs = http::parseAbsoluteTarget(req.target);
            if (!abs || abs->authority.host != tunnel_->host ||
                abs->authority.port != tunnel_->port) {
                co_return co_await fail(400, "Bad Request",
                                        "request target does not match the CONNECT tunnel");
            }
            origin = abs->path;
        }
        if (const auto* host = http::findHeader(req.headers, "Host")) {
            auto parsed = http::parseAuthority(host->value, tunnel_->port);
            if (!parsed || parsed->host != tunnel_->host) {
                co_return co_await fail(400, "Bad Request",
                                        "Host header '" + host->value +
                                            "' does not match the CONNECT target '" +
                                            tunnel_->host + "'");
            }
        }
    } else {
        auto abs = http::parseAbsoluteTarget(req.target);
        if (!abs)
            co_return co_await fail(
                400, "Bad Request",
                "a proxy request needs an absolute http:// URL: " + abs.error());
        if (abs->scheme != "http")
            co_return co_await fail(400, "Bad Request", "use CONNECT for https:// URLs");
        authority = abs->authority;
        origin = abs->path;
    }
    rec.host = authority.host;
    rec.port = authority.port;
    rec.path = std::string(http::pathWithoutQuery(origin));
    if (rec.path.size() > kMaxPathLength)
        co_return co_await fail(414, "URI Too Long", "path longer than 8 KiB");
    auto policy_path = http::normalizePath(rec.path);
    if (!policy_path)
        co_return co_await fail(400, "Bad Request",
                                "bad path '" + rec.path + "': " + policy_path.error());

    // 2. Policy, on the path as the server will see it; the request goes out unchanged.
    PolicyVerdict verdict = ctx_.config().policy.evaluate(req.method, authority.host, *policy_path);
    rec.decision = verdict.decision;
    rec.rule = verdict.describe();
    if (verdict.decision == PolicyDecision::kDeny) {
        if (!ctx_.config().audit_only) {
            rec.status = 403;
            co_return co_await respond(403, "Forbidden",
                                       "nixjail proxy denied " + req.method + " " + authority.host +
                                           rec.path + ": " + rec.rule + "\n",
                                       false);
        }
        rec.enforced = false;
    }

    // 3. The request as it goes upstream.
    auto framing = http::requestBodyFraming(req);
    if (!framing)
        co_return co_await fail(400, "Bad Request", "bad request body framing: " + framing.error());
    bool client_keep_alive = wantsKeepAlive(req.version, req.headers);
    bool expect_continue = http::headerHasToken(req.headers, "Expect", "100-continue");
    bool upgrade = http::headerHasToken(req.headers, "Connection", "upgrade") &&
                   http::findHeader(req.headers, "Upgrade") != nullptr;
    for (const char* h : kHopHeaders) http::removeHeader(req.headers, h);
    http::removeHeader(req.headers, "Host");
    req.headers.insert(req.headers.begin(), {"Host", hostHeaderValue(authority, tls)});
    req.target = origin;
    auto noteInjected = [&rec](const std::vector<std::string>& names) {
        for (const auto& n : names) {
            if (std::find(rec.credentials.begin(), rec.credentials.end(), n) == rec.credentials.end())
                rec.credentials.push_back(n);
        }
    };
    noteInjected(injectCredentials(req.headers, ctx_.config().credentials, authority.host, tls));
    noteInjected(injectIntoQuery(req.target, ctx_.config().credentials, authority.host, tls));
    StreamRewriter body_injector =
        requestBodyInjector(ctx_.config().credentials, req.headers, authority.host, tls);
    std::string head = http::serializeRequestHead(req);

    // 4. Upstream connection, reused when the previous exchange left one to the same place. The
    // server may have closed a reused one meanwhile, which shows only as a failed write or an EOF
    // before any response byte; a request without a body is then sent once more on a fresh one.
    UpstreamTarget target{authority.host, authority.port, tls};
    std::string error;
    std::error_code ec;
    http::ResponseHead res;
    for (int attempt = 0;; ++attempt) {
        bool timed_out = false;
        bool reused = false;
        if (!co_await ensureUpstream(target, error, timed_out, reused)) {
            co_return co_await fail(timed_out ? 504 : 502,
                                    timed_out ? "Gateway Timeout" : "Bad Gateway", error);
        }
        bool may_retry = reused && attempt == 0 && framing->kind == http::BodyFraming::Kind::kNone;
        armDeadline(ctx_.config().timeouts.total,
                    "exchange took longer than " +
                        std::to_string(ctx_.config().timeouts.total.count()) +
                        " ms (total timeout)");
        co_await write(*upstream_.conn.stream, head, ec);
        if (ec) {
            upstream_.conn.stream->close();
            if (may_retry && expired_.empty()) {
                ec.clear();
                continue;
            }
            if (!expired_.empty()) co_return co_await fail(504, "Gateway Timeout", expired_);
            co_return co_await fail(502, "Bad Gateway",
                                    "cannot send the request upstream: " + ec.message());
        }
        if (expect_continue && attempt == 0) {
            co_await write(*client_.stream, "HTTP/1.1 100 Continue\r\n\r\n", ec);
            if (ec) co_return false;
        }
        co_await pumpBody(client_, *upstream_.conn.stream, *framing, rec.bytes_up, ec, error,
                          &body_injector);
        noteInjected(body_injector.swapped());
        if (ec) {
            upstream_.conn.stream->close();
            if (!expired_.empty()) co_return co_await fail(504, "Gateway Timeout", expired_);
            if (!error.empty())
                co_return co_await fail(400, "Bad Request", "request body: " + error);
            rec.error = "client went away while sending the body: " + ec.message();
            co_return false;
        }

        // 5. Response head (1xx interim responses are passed on, except 101 which ends HTTP).
        bool retry = false;
        while (true) {
            auto raw = co_await readHead(upstream_.conn, ec);
            if (!raw) {
                upstream_.conn.stream->close();
                if (!expired_.empty()) co_return co_await fail(504, "Gateway Timeout", expired_);
                if (may_retry && upstream_.conn.pending.empty()) {
                    retry = true;
                    ec.clear();
                    break;
                }
                co_return co_await fail(502, "Bad Gateway",
                                        "no response from upstream: " + ec.message());
            }
            auto parsed = http::parseResponseHead(*raw);
            if (!parsed) {
                upstream_.conn.stream->close();
                co_return co_await fail(502, "Bad Gateway",
                                        "malformed response from upstream: " + parsed.error());
            }
            res = std::move(*parsed);
            if (res.status >= 200 || res.status == 101) break;
            may_retry = false;
            if (req.version == "HTTP/1.1" && res.status != 100) {
                co_await write(*client_.stream, http::serializeResponseHead(res), ec);
                if (ec) co_return false;
            }
        }
        if (!retry) break;
    }
    rec.status = res.status;
    auto res_framing = http::responseBodyFraming(res, req.method);
    if (!res_framing) {
        upstream_.conn.stream->close();
        co_return co_await fail(502, "Bad Gateway",
                                "bad response body framing: " + res_framing.error());
    }
    bool switching = res.status == 101 && upgrade;
    bool upstream_keep_alive = !switching && wantsKeepAlive(res.version, res.headers) &&
                               res_framing->kind != http::BodyFraming::Kind::kUntilClose;
    bool keep_client = !switching && client_keep_alive && upstream_keep_alive;
    scrubResponseHeaders(res.headers, ctx_.config().credentials);
    if (!switching) {
        http::removeHeader(res.headers, "Connection");
        http::removeHeader(res.headers, "Keep-Alive");
        if (!keep_client) res.headers.push_back({"Connection", "close"});
    }
    std::string res_head = http::serializeResponseHead(res);
    if (switching) {
        co_await write(*client_.stream, res_head, ec);
        if (ec) {
            upstream_.conn.stream->close();
            co_return false;
        }
        disarmDeadline();  // a WebSocket lives as long as it is not idle
        co_await splice(rec.bytes_up, rec.bytes_down);
        co_return false;
    }

    // 6. Response body, with the head in front of its first piece when that came with the head.
    StreamRewriter scrubber = responseBodyScrubber(ctx_.config().credentials);
    co_await pumpBody(upstream_.conn, *client_.stream, *res_framing, rec.bytes_down, ec, error,
                      &scrubber, &res_head);
    disarmDeadline();
    if (ec && !res_head.empty() && error.empty()) {  // the client took not even the head
        upstream_.conn.stream->close();
        co_return false;
    }
    if (ec) {
        rec.error = !expired_.empty() ? expired_
                    : !error.empty()  ? "response body: " + error
                                      : ec.message();
        closeAll();
        co_return false;
    }
    if (!upstream_keep_alive) upstream_.conn.stream->close();
    co_return keep_client;
}

asio::awaitable<bool> ClientSession::ensureUpstream(const UpstreamTarget& target,
                                                    std::string& error, bool& timed_out,
                                                    bool& reused) {
    if (upstream_.usable() && upstream_.target.host == target.host &&
        upstream_.target.port == target.port && upstream_.target.tls == target.tls &&
        upstream_.conn.pending.empty()) {
        reused = true;
        co_return true;
    }
    reused = false;
    if (upstream_.conn.stream) upstream_.conn.stream->close();
    upstream_ = Upstream{};
    armDeadline(ctx_.config().timeouts.connect,
                "connecting to '" + target.host + ":" + std::to_string(target.port) +
                    "' took longer than " + std::to_string(ctx_.config().timeouts.connect.count()) +
                    " ms (connect timeout)");
    std::error_code ec;
    auto stream = co_await connectUpstream(ctx_, target, ec, error, cancel_connect_);
    disarmDeadline();
    if (!stream) {
        if (!expired_.empty()) {
            timed_out = true;
            error = expired_;
        }
        co_return false;
    }
    upstream_.conn.stream = std::move(stream);
    upstream_.target = target;
    co_return true;
}

asio::awaitable<void> ClientSession::pumpBody(BufferedStream& from, ByteStream& to,
                                              http::BodyFraming framing, std::uint64_t& counter,
                                              std::error_code& ec, std::string& error,
                                              StreamRewriter* scrub, std::string* head) {
    // The head and the body bytes read along with it go out in one write: one TLS record and one
    // send instead of two. A head is never held back waiting for the body. It is cleared once
    // sent, so the caller can tell whether it went out.
    auto sendHead = [&]() -> asio::awaitable<void> {
        if (!head || head->empty()) co_return;
        co_await write(to, *head, ec);
        if (!ec) head->clear();
    };
    http::BodyTracker tracker(framing);
    while (!tracker.done()) {
        // Body bytes are read into from.chunk and written on from there; only what follows the
        // body (the next message) is kept in from.pending.
        std::string_view data = from.pending;
        bool from_chunk = false;
        if (data.empty()) {
            co_await sendHead();
            if (ec) co_return;
            data = co_await readChunk(from, ec);
            if (ec == asio::error::eof && framing.kind == http::BodyFraming::Kind::kUntilClose) {
                ec.clear();
                if (scrub && scrub->active()) {
                    std::string rest = scrub->finish();
                    co_await write(to, rest, ec);
                    counter += rest.size();
                }
                co_return;
            }
            if (ec) {
                from.pending.append(data);
                co_return;
            }
            from_chunk = true;
        }
        std::size_t n = tracker.consume(data);
        if (tracker.failed()) {
            if (from_chunk) from.pending.append(data);
            error = tracker.error();
            ec = std::make_error_code(std::errc::protocol_error);
            co_return;
        }
        std::string_view piece = data.substr(0, n);
        std::string scrubbed;
        if (scrub && scrub->active() && !scrub->passesUnchanged(piece)) {
            scrubbed = scrub->feed(piece);
            if (tracker.done()) scrubbed += scrub->finish();
            piece = scrubbed;
        }
        std::size_t body_bytes = piece.size();
        std::string with_head;
        if (head && !head->empty()) {
            with_head.reserve(head->size() + piece.size());
            with_head.append(*head).append(piece);
            piece = with_head;
        }
        co_await write(to, piece, ec);
        if (ec) co_return;
        if (head) head->clear();
        counter += body_bytes;
        if (from_chunk)
            from.pending.append(data.substr(n));
        else
            from.pending.erase(0, n);
    }
    co_await sendHead();  // a response without a body
}

asio::awaitable<void> ClientSession::pipeRaw(BufferedStream& from, ByteStream& to,
                                             std::uint64_t& counter) {
    std::error_code ec;
    if (!from.pending.empty()) {
        co_await write(to, from.pending, ec);
        counter += from.pending.size();
        from.pending.clear();
    }
    while (!ec) {
        std::string_view data = co_await readChunk(from, ec);
        if (ec) break;
        co_await write(to, data, ec);
        counter += data.size();
    }
    // One direction ended: end the other too, or it would wait for the idle timeout.
    closeAll();
}

asio::awaitable<void> ClientSession::splice(std::uint64_t& up, std::uint64_t& down) {
    co_await (pipeRaw(client_, *upstream_.conn.stream, up) &&
              pipeRaw(upstream_.conn, *client_.stream, down));
}

}  // namespace nixjail::proxy
