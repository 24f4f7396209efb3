// http::Server: binds, accepts on its io thread and spawns serveConnection for each client.
#include "runner/http/server.h"

#include <fmt/format.h>

#include <thread>

#include "runner/base/error.h"

namespace nixjail::runner::http {

using asio::awaitable;
using asio::ip::tcp;

struct Server::Impl {
    Impl(const std::string& what, const std::string& bind_address, std::uint16_t wanted_port,
         RequestHandler h, std::function<void(std::uint64_t)> counter)
        : handler(std::move(h)), on_file_bytes(std::move(counter)), acceptor(io) {
        if (!on_file_bytes) on_file_bytes = [](std::uint64_t) {};
        std::error_code ec;
        auto addr = asio::ip::make_address(bind_address, ec);
        if (ec) throw base::Error(what + " address '" + bind_address + "' is not an IP address");
        tcp::endpoint ep(addr, wanted_port);
        acceptor.open(ep.protocol(), ec);
        if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec) acceptor.bind(ep, ec);
        if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            throw ListenError(fmt::format("cannot listen for {} on {}:{}: {}", what, bind_address,
                                          wanted_port, ec.message()),
                              ec.message());
        }
        port = acceptor.local_endpoint().port();
        asio::co_spawn(io, accept(), asio::detached);
        thread = std::thread([this] { io.run(); });
    }

    ~Impl() {
        io.stop();
        if (thread.joinable()) thread.join();
    }

    awaitable<void> accept() {
        for (;;) {
            std::error_code ec;
            tcp::socket sock =
                co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
            if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
            if (ec) continue;  // e.g. EMFILE: this client is lost, the server keeps accepting
            // A response's head and a file body go out in separate writes: with Nagle, a small
            // body on a kept-alive connection would wait for the client's delayed ACK (40 ms).
            sock.set_option(tcp::no_delay(true), ec);
            asio::co_spawn(io, serveConnection(std::move(sock), handler, on_file_bytes),
                           asio::detached);
        }
    }

    RequestHandler handler;
    std::function<void(std::uint64_t)> on_file_bytes;
    asio::io_context io;
    tcp::acceptor acceptor;
    std::uint16_t port = 0;
    std::thread thread;
};

Server::Server(const std::string& what, const std::string& bind_address, std::uint16_t port,
               RequestHandler handler, std::function<void(std::uint64_t)> on_file_bytes)
    : impl_(std::make_unique<Impl>(what, bind_address, port, std::move(handler),
                                   std::move(on_file_bytes))) {}

Server::~Server() = default;

std::uint16_t Server::port() const { return impl_->port; }

}  // namespace nixjail::runner::http
