// The client side of a session: request loop, CONNECT interception, timeouts, buffered I/O.
#include "proxy/client_session.h"

#include "proxy/proxy_context.h"
#include "proxy/ssl_error.h"
#include "proxy/tls_byte_stream.h"

namespace nixjail::proxy {

namespace {
constexpr std::size_t kReadChunk = 64 * 1024;
}

ClientSession::ClientSession(ProxyContext& ctx, tcp::socket socket)
    : ctx_(ctx), timer_(socket.get_executor()) {
    std::error_code ignored;  // Nagle only costs latency; failing to turn it off is harmless
    socket.set_option(tcp::no_delay(true), ignored);
    client_.stream = std::make_unique<TcpByteStream>(std::move(socket));
    touch();
}

void ClientSession::start(ProxyContext& ctx, tcp::socket socket) {
    auto executor = socket.get_executor();
    auto self = std::make_shared<ClientSession>(ctx, std::move(socket));
    // The completion handlers hold the session; an exception ends only this connection.
    auto boundary = [self](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            self->ctx_.log().warn("proxy connection failed, closing it: {}", ex.what());
        }
        self->finished_ = true;
        self->closeAll();
        self->timer_.cancel();
    };
    asio::co_spawn(executor, self->run(), boundary);
    asio::co_spawn(executor, self->watchdog(), boundary);
}

asio::awaitable<void> ClientSession::run() {
    while (true) {
        auto req = co_await readRequest();
        if (!req) break;
        bool keep = (req->method == "CONNECT" && !tunnel_) ? co_await handleConnect(*req)
                                                           : co_await forward(std::move(*req));
        if (!keep) break;
    }
    if (linger_) co_await lingerAndClose();
    finished_ = true;
    closeAll();
    timer_.cancel();
}

asio::awaitable<void> ClientSession::watchdog() {
    while (!finished_) {
        timer_.expires_at(std::min(idle_deadline_, hard_deadline_));
        std::error_code ec;
        co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (finished_) break;
        auto now = Clock::now();
        if (now >= hard_deadline_) {
            expired_ = hard_reason_;
        } else if (now >= idle_deadline_) {
            expired_ = "no data moved for " + std::to_string(ctx_.config().timeouts.idle.count()) +
                       " ms (idle timeout)";
        } else {
            continue;  // deadline moved while we slept
        }
        hard_deadline_ = Clock::time_point::max();
        idle_deadline_ = Clock::time_point::max();
        cancelAll();
    }
}

asio::awaitable<void> ClientSession::lingerAndClose() {
    // Closing with unread input makes the kernel send RST, which can destroy our error response
    // before the client reads it. So half-close, then drain what the client still sends, bounded.
    constexpr std::size_t kMaxDrain = 4 * 1024 * 1024;
    client_.stream->shutdownSend();
    armDeadline(std::chrono::seconds(2), "lingering close");
    std::error_code ec;
    std::size_t drained = 0;
    while (!ec && drained < kMaxDrain) {
        client_.pending.clear();
        drained += co_await readMore(client_, ec);
    }
    disarmDeadline();
}

void ClientSession::touch() {
    if (expired_.empty()) idle_deadline_ = Clock::now() + ctx_.config().timeouts.idle;
}

void ClientSession::armDeadline(std::chrono::milliseconds d, std::string reason) {
    hard_deadline_ = Clock::now() + d;
    hard_reason_ = std::move(reason);
    timer_.cancel();  // re-evaluate with the earlier deadline
}

void ClientSession::failIfExpired(std::error_code& ec) const {
    // The watchdog's cancel() reaches only operations still pending: one that completed in the
    // same turn of the io loop as the timer comes back successful. Without this check such a
    // completion would carry the exchange on past its deadline, now disarmed.
    if (!ec && !expired_.empty()) ec = asio::error::operation_aborted;
}

void ClientSession::disarmDeadline() { hard_deadline_ = Clock::time_point::max(); }

void ClientSession::cancelAll() {
    if (client_.stream) client_.stream->cancel();
    if (upstream_.conn.stream) upstream_.conn.stream->cancel();
    if (cancel_connect_) cancel_connect_();
}

void ClientSession::closeAll() {
    if (client_.stream) client_.stream->close();
    if (upstream_.conn.stream) upstream_.conn.stream->close();
}

asio::awaitable<std::size_t> ClientSession::readMore(BufferedStream& s, std::error_code& ec) {
    std::string_view got = co_await readChunk(s, ec);
    s.pending.append(got);
    co_return got.size();
}

asio::awaitable<std::string_view> ClientSession::readChunk(BufferedStream& s, std::error_code& ec) {
    if (!s.chunk) s.chunk = std::make_unique_for_overwrite<char[]>(kReadChunk);
    touch();
    std::size_t n = co_await s.stream->readSome(asio::buffer(s.chunk.get(), kReadChunk), ec);
    failIfExpired(ec);
    touch();
    co_return std::string_view(s.chunk.get(), n);
}

asio::awaitable<void> ClientSession::write(ByteStream& s, std::string_view data,
                                           std::error_code& ec) {
    touch();
    co_await s.writeAll(asio::buffer(data.data(), data.size()), ec);
    failIfExpired(ec);
    touch();
}

asio::awaitable<std::optional<std::string>> ClientSession::readHead(BufferedStream& s,
                                                                    std::error_code& ec) {
    while (true) {
        // Clients may send stray CRLFs between messages (RFC 9112 2.2).
        while (s.pending.size() >= 2 && s.pending[0] == '\r' && s.pending[1] == '\n')
            s.pending.erase(0, 2);
        if (auto end = http::findHeadEnd(s.pending)) {
            if (*end > http::kMaxHeadSize) {
                ec = std::make_error_code(std::errc::message_size);
                co_return std::nullopt;
            }
            std::string head = s.pending.substr(0, *end);
            s.pending.erase(0, *end);
            co_return head;
        }
        if (s.pending.size() > http::kMaxHeadSize) {
            ec = std::make_error_code(std::errc::message_size);
            co_return std::nullopt;
        }
        co_await readMore(s, ec);
        if (ec) co_return std::nullopt;
    }
}

asio::awaitable<std::optional<http::RequestHead>> ClientSession::readRequest() {
    std::error_code ec;
    auto head = co_await readHead(client_, ec);
    if (!head) {
        if (ec == std::errc::message_size) {
            co_await respond(431, "Request Header Fields Too Large", "request head over 64 KiB\n",
                             false);
        }
        co_return std::nullopt;  // EOF, reset or idle timeout between requests: just close
    }
    auto req = http::parseRequestHead(*head);
    if (!req) {
        co_await respond(400, "Bad Request", "malformed request: " + req.error() + "\n", false);
        co_return std::nullopt;
    }
    co_return std::move(*req);
}

asio::awaitable<bool> ClientSession::handleConnect(const http::RequestHead& req) {
    AuditRecord rec;
    rec.time = std::chrono::system_clock::now();
    rec.method = req.method;
    auto authority = http::parseAuthority(req.target, 0);
    if (!authority)
        co_return co_await respond(400, "Bad Request",
                                   "bad CONNECT target: " + authority.error() + "\n", false);
    rec.host = authority->host;
    rec.port = authority->port;

    PolicyVerdict verdict = ctx_.config().policy.evaluateHost(authority->host);
    rec.decision = verdict.decision;
    rec.rule = verdict.describe();
    if (verdict.decision == PolicyDecision::kDeny) {
        if (!ctx_.config().audit_only) {
            rec.status = 403;
            ctx_.audit(rec);
            co_await respond(
                403, "Forbidden",
                "nixjail proxy denied CONNECT to '" + authority->host + "': " + rec.rule + "\n",
                false);
            co_return false;
        }
        rec.enforced = false;
        ctx_.audit(rec);
    }
    if (!client_.pending.empty()) {
        co_return co_await respond(400, "Bad Request",
                                   "data sent before the CONNECT tunnel was established\n", false);
    }

    std::error_code ec;
    co_await write(*client_.stream, "HTTP/1.1 200 Connection established\r\n\r\n", ec);
    if (ec) co_return false;
    auto* plain = dynamic_cast<TcpByteStream*>(client_.stream.get());
    if (!plain) co_return false;  // CONNECT inside a tunnel is refused before we get here
    // A TLS client starts with a handshake record (0x16); anything else is plain HTTP through
    // the tunnel, handled like an http:// proxy request to the CONNECT target. Peeked, so the
    // TLS stream still reads the whole handshake.
    armDeadline(ctx_.config().timeouts.connect, "no data in the CONNECT tunnel");
    co_await plain->stream().async_wait(tcp::socket::wait_read,
                                        asio::redirect_error(asio::use_awaitable, ec));
    failIfExpired(ec);
    disarmDeadline();
    unsigned char first = 0;
    if (!ec) plain->stream().receive(asio::buffer(&first, 1), tcp::socket::message_peek, ec);
    if (ec) co_return false;
    if (first != 0x16) {
        tunnel_ = *authority;
        tunnel_tls_ = false;
        co_return true;
    }
    try {
        client_tls_ctx_ = ctx_.serverTlsFor(authority->host);
    } catch (const SslError& e) {
        rec.error = e.what();
        ctx_.audit(rec);
        co_return false;
    }
    try {
        client_.stream =
            std::make_unique<TlsByteStream>(std::move(plain->stream()), *client_tls_ctx_);
    } catch (const base::Error& e) {
        rec.error = e.what();
        ctx_.audit(rec);
        co_return false;
    }
    auto& tls_stream = static_cast<TlsByteStream&>(*client_.stream);
    armDeadline(ctx_.config().timeouts.connect, "client TLS handshake timed out");
    co_await tls_stream.handshake(TlsByteStream::Role::kServer, ec);
    failIfExpired(ec);
    disarmDeadline();
    if (ec) {
        // Usually the client does not trust the proxy CA yet: worth an audit line for the user.
        rec.error =
            "client TLS handshake failed (does the client trust the proxy CA?): " + ec.message();
        ctx_.audit(rec);
        co_return false;
    }
    tunnel_ = *authority;
    co_return true;
}

asio::awaitable<bool> ClientSession::respond(int status, const std::string& reason,
                                             const std::string& body, bool keep_alive) {
    http::ResponseHead head{"HTTP/1.1", status, reason, {}};
    head.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
    head.headers.push_back({"Content-Length", std::to_string(body.size())});
    head.headers.push_back({"Connection", keep_alive ? "keep-alive" : "close"});
    head.headers.push_back({"X-Nixjail-Proxy", "1"});
    std::string out = http::serializeResponseHead(head) + body;
    if (!keep_alive) linger_ = true;
    std::error_code ec;
    if (!client_.stream || !client_.stream->isOpen()) co_return false;
    co_await write(*client_.stream, out, ec);
    co_return keep_alive && !ec;
}

}  // namespace nixjail::proxy
