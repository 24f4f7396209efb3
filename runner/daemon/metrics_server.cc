// The /metrics endpoint over standalone Asio: one request per connection, then close.
#include "runner/daemon/metrics_server.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "proxy/asio_config.h"
#include "runner/base/error.h"

namespace nixjail::runner::daemon {

namespace {

using asio::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket socket, const Metrics& metrics)
        : socket_(std::move(socket)), metrics_(metrics) {}

    void start() {
        auto self = shared_from_this();
        asio::async_read_until(socket_, asio::dynamic_buffer(request_, 16 * 1024), "\r\n\r\n",
                               [self](const asio::error_code& ec, size_t) { self->answer(ec); });
    }

  private:
    void answer(const asio::error_code& ec) {
        if (ec) return;  // closed early or an oversized request: drop the connection
        const auto line = request_.substr(0, request_.find("\r\n"));
        std::string status = "200 OK", body, type = "text/plain; version=0.0.4; charset=utf-8";
        if (line.rfind("GET /metrics ", 0) == 0 || line.rfind("GET /metrics?", 0) == 0) {
            body = metrics_.render();
        } else if (line.rfind("GET ", 0) == 0) {
            status = "404 Not Found";
            body = "nixjail-runner serves only /metrics\n";
            type = "text/plain; charset=utf-8";
        } else {
            status = "405 Method Not Allowed";
            body = "only GET\n";
            type = "text/plain; charset=utf-8";
        }
        reply_ = "HTTP/1.1 " + status + "\r\nContent-Type: " + type +
                 "\r\nContent-Length: " + std::to_string(body.size()) +
                 "\r\nConnection: close\r\n\r\n" + body;
        auto self = shared_from_this();
        asio::async_write(socket_, asio::buffer(reply_), [self](const asio::error_code&, size_t) {
            asio::error_code ignored;
            self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
        });
    }

    tcp::socket socket_;
    const Metrics& metrics_;
    std::string request_, reply_;
};

}  // namespace

struct MetricsServer::Impl {
    asio::io_context io;
    tcp::acceptor acceptor{io};
    const Metrics& metrics;
    std::thread thread;

    explicit Impl(const Metrics& m) : metrics(m) {}

    void accept() {
        acceptor.async_accept([this](const asio::error_code& ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted) return;
            if (!ec) std::make_shared<Session>(std::move(socket), metrics)->start();
            accept();
        });
    }
};

MetricsServer::MetricsServer(const std::string& address, const Metrics& metrics)
    : impl_(std::make_unique<Impl>(metrics)) {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos) {
        throw base::Error("metrics address '" + address + "' is not host:port");
    }
    std::string host = address.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    asio::error_code ec;
    const auto ip = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
    if (ec)
        throw base::Error("metrics address '" + address + "': '" + host + "' is not an IP address");
    int port = 0;
    try {
        port = std::stoi(address.substr(colon + 1));
    } catch (const std::exception&) {
        throw base::Error("metrics address '" + address + "': the port is not a number");
    }
    const tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
    impl_->acceptor.open(endpoint.protocol(), ec);
    if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) impl_->acceptor.bind(endpoint, ec);
    if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        throw base::Error("cannot serve metrics on '" + address + "': " + ec.message() +
                          "; choose another metrics.address (empty: off)");
    }
    impl_->accept();
    impl_->thread = std::thread([this] { impl_->io.run(); });
}

MetricsServer::~MetricsServer() {
    asio::post(impl_->io, [this] {
        asio::error_code ignored;
        impl_->acceptor.close(ignored);
        impl_->io.stop();
    });
    impl_->thread.join();
}

int MetricsServer::port() const { return impl_->acceptor.local_endpoint().port(); }

}  // namespace nixjail::runner::daemon
