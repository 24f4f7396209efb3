// The /metrics endpoint on an http::Server: one request per connection, then close.
#include "runner/daemon/metrics_server.h"

#include <cstdint>
#include <exception>
#include <utility>

#include "runner/base/error.h"
#include "runner/http/server.h"

namespace nixjail::runner::daemon {

namespace {

http::Response textResponse(int status, std::string body, std::string content_type) {
    http::Response r{status, std::move(body), std::move(content_type)};
    r.keep = false;  // Prometheus scrapes rarely: a connection per request, as before
    return r;
}

// GET /metrics (with or without a query) is the Prometheus text; other GETs 404, other methods 405.
http::Response answer(const Metrics& metrics, const http::RequestHead& head) {
    if (head.method != "GET") return textResponse(405, "only GET\n", "text/plain; charset=utf-8");
    if (head.target == "/metrics" || head.target.starts_with("/metrics?")) {
        return textResponse(200, metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
    }
    return textResponse(404, "nixjail-runner serves only /metrics\n", "text/plain; charset=utf-8");
}

asio::awaitable<http::Response> serveMetrics(const Metrics& metrics,
                                             const http::RequestHead& head) {
    co_return answer(metrics, head);
}

}  // namespace

struct MetricsServer::Impl {
    std::unique_ptr<http::Server> server;
};

MetricsServer::MetricsServer(const std::string& address, const Metrics& metrics)
    : impl_(std::make_unique<Impl>()) {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos) {
        throw base::Error("metrics address '" + address + "' is not host:port");
    }
    std::string host = address.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    int port = 0;
    try {
        port = std::stoi(address.substr(colon + 1));
    } catch (const std::exception&) {
        throw base::Error("metrics address '" + address + "': the port is not a number");
    }
    try {
        impl_->server = std::make_unique<http::Server>(
            "metrics", host.empty() ? "0.0.0.0" : host, static_cast<std::uint16_t>(port),
            [&metrics](const http::RequestHead& head, http::RequestBody&) {
                return serveMetrics(metrics, head);
            });
    } catch (const http::ListenError& e) {
        // Reworded for the setting the operator has to change.
        throw base::Error("cannot serve metrics on '" + address + "': " + e.reason() +
                          "; choose another metrics.address (empty: off)");
    }
}

MetricsServer::~MetricsServer() = default;

int MetricsServer::port() const { return impl_->server->port(); }

}  // namespace nixjail::runner::daemon
