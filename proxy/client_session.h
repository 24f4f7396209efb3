// One client connection: reads requests one by one (keep-alive), turns CONNECT into a
// TLS-terminated tunnel, and forwards each request under the policy. Also runs the connection's
// timeouts.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "proxy/byte_stream.h"
#include "proxy/credential_injector.h"
#include "proxy/http_parser.h"
#include "proxy/upstream_connector.h"

namespace nixjail::proxy {

class ProxyContext;

class ClientSession : public std::enable_shared_from_this<ClientSession> {
  public:
    ClientSession(ProxyContext& ctx, tcp::socket socket);
    // Spawns the session and its watchdog on the socket's executor; each keeps the session alive.
    static void start(ProxyContext& ctx, tcp::socket socket);

  private:
    using Clock = std::chrono::steady_clock;

    struct Upstream {
        BufferedStream conn;
        UpstreamTarget target;
        bool usable() const { return conn.stream && conn.stream->isOpen(); }
    };

    asio::awaitable<void> run();
    asio::awaitable<void> watchdog();

    // client_session.cc
    asio::awaitable<std::optional<http::RequestHead>> readRequest();
    asio::awaitable<bool> handleConnect(const http::RequestHead& req);

    // exchange.cc: one request/response; returns whether the client connection stays open.
    asio::awaitable<bool> forward(http::RequestHead req);
    asio::awaitable<bool> ensureUpstream(const UpstreamTarget& target, std::string& error,
                                         bool& timed_out, bool& reused);
    asio::awaitable<void> pumpBody(BufferedStream& from, ByteStream& to, http::BodyFraming framing,
                                   std::uint64_t& counter, std::error_code& ec, std::string& error,
                                   StreamRewriter* rewrite = nullptr, std::string* head = nullptr);
    asio::awaitable<void> splice(std::uint64_t& up, std::uint64_t& down);
    asio::awaitable<void> pipeRaw(BufferedStream& from, ByteStream& to, std::uint64_t& counter);
    asio::awaitable<bool> respond(int status, const std::string& reason, const std::string& body,
                                  bool keep_alive);

    // Buffered I/O that counts as activity for the idle timeout.
    asio::awaitable<std::optional<std::string>> readHead(BufferedStream& s, std::error_code& ec);
    asio::awaitable<std::size_t> readMore(BufferedStream& s, std::error_code& ec);
    // One read into s.chunk; the bytes stay valid until the next read from `s`.
    asio::awaitable<std::string_view> readChunk(BufferedStream& s, std::error_code& ec);
    asio::awaitable<void> write(ByteStream& s, std::string_view data, std::error_code& ec);

    asio::awaitable<void> lingerAndClose();
    void touch();
    void armDeadline(std::chrono::milliseconds d, std::string reason);
    void disarmDeadline();
    void failIfExpired(std::error_code& ec) const;
    void cancelAll();
    void closeAll();

    ProxyContext& ctx_;
    BufferedStream client_;
    std::shared_ptr<asio::ssl::context> client_tls_ctx_;  // outlives the TLS stream using it
    std::optional<http::Authority> tunnel_;  // set once a CONNECT tunnel is established
    // Whether the tunnel carries TLS (intercepted with a certificate of the proxy's CA) or plain
    // HTTP (clients such as @actions/http-client tunnel http:// URLs through CONNECT too).
    bool tunnel_tls_ = true;
    Upstream upstream_;
    std::function<void()> cancel_connect_;  // set by connectUpstream while it is under way

    asio::steady_timer timer_;
    Clock::time_point idle_deadline_;
    Clock::time_point hard_deadline_ = Clock::time_point::max();
    std::string hard_reason_;
    std::string expired_;  // why the watchdog cancelled I/O, empty while not expired
    bool finished_ = false;
    bool linger_ = false;  // an error answer went out while the client may still be sending
};

}  // namespace nixjail::proxy
