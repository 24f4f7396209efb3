// Upstream connections. Errors become text for the client's 502/504, never exceptions.
#include "proxy/upstream_connector.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "proxy/proxy_context.h"
#include "proxy/tls_byte_stream.h"

namespace nixjail::proxy {

namespace {

bool isIpLiteral(const std::string& host) {
    std::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

std::string describe(const std::error_code& ec) { return ec.message(); }

}  // namespace

asio::awaitable<std::unique_ptr<ByteStream>> connectUpstream(ProxyContext& ctx,
                                                             const UpstreamTarget& target,
                                                             std::error_code& ec,
                                                             std::string& error,
                                                             std::function<void()>& cancel) {
    auto executor = co_await asio::this_coro::executor;
    // The hook points into this frame, so it must not outlive it.
    struct ResetHook {
        std::function<void()>& hook;
        ~ResetHook() { hook = nullptr; }
    } reset_hook{cancel};
    std::string where = "'" + target.host + ":" + std::to_string(target.port) + "'";
    std::vector<tcp::endpoint> endpoints;
    auto override_it = ctx.config().host_overrides.find(target.host);
    if (override_it != ctx.config().host_overrides.end()) {
        const HostOverride pin = parseHostOverride(override_it->second);  // validated at start
        if (pin.port && *pin.port != target.port) {
            ec = std::make_error_code(std::errc::permission_denied);
            error = "the runner serves " + target.host + " on port " + std::to_string(*pin.port) +
                    " only, not " + std::to_string(target.port);
            co_return nullptr;
        }
        endpoints.emplace_back(pin.address, target.port);
    } else {
        tcp::resolver resolver(executor);
        cancel = [&resolver] { resolver.cancel(); };
        auto results =
            co_await resolver.async_resolve(target.host, std::to_string(target.port),
                                            asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            error = "cannot resolve " + where + ": " + describe(ec);
            co_return nullptr;
        }
        std::string refused;
        for (const auto& r : results) {
            const std::string why =
                ctx.config().allow_host_upstreams ? "" : ctx.guard().refusal(r.endpoint().address());
            if (why.empty()) {
                endpoints.push_back(r.endpoint());
            } else if (refused.empty()) {
                refused = r.endpoint().address().to_string() + ", " + why;
            }
        }
        cancel = nullptr;  // the resolver dies with this block
        if (endpoints.empty()) {
            ec = std::make_error_code(std::errc::permission_denied);
            error = "refusing to connect to " + where + ": it resolves to " + refused +
                    "; a job never reaches the runner's own host through its proxy";
            co_return nullptr;
        }
    }

    tcp::socket socket(executor);
    cancel = [&socket] {
        std::error_code ignored;  // aborting the attempt is all that matters
        socket.close(ignored);
    };
    co_await asio::async_connect(socket, endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        error = "cannot connect to " + where + ": " + describe(ec);
        co_return nullptr;
    }
    socket.set_option(tcp::no_delay(true), ec);
    ec.clear();
    if (!target.tls) co_return std::make_unique<TcpByteStream>(std::move(socket));

    std::unique_ptr<TlsByteStream> tls;
    try {
        tls = std::make_unique<TlsByteStream>(std::move(socket), ctx.upstreamTls());
    } catch (const base::Error& e) {
        ec = std::make_error_code(std::errc::not_enough_memory);
        error = "cannot set up TLS to " + where + ": " + e.what();
        co_return nullptr;
    }
    cancel = [&tls] { tls->close(); };  // aborting the handshake is all that matters
    SSL* ssl = tls->native();
    if (isIpLiteral(target.host)) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), target.host.c_str());
    } else {
        SSL_set_tlsext_host_name(ssl, target.host.c_str());
        SSL_set1_host(ssl, target.host.c_str());
    }
    co_await tls->handshake(TlsByteStream::Role::kClient, ec);
    if (ec) {
        long verify = SSL_get_verify_result(ssl);
        if (verify != X509_V_OK) {
            error = "TLS certificate of " + where +
                    " not trusted: " + X509_verify_cert_error_string(verify);
        } else {
            error = "TLS handshake with " + where + " failed: " + describe(ec);
        }
        co_return nullptr;
    }
    co_return tls;
}

}  // namespace nixjail::proxy
