// The upstream TLS client context: TLS 1.2 or later, peers verified against the trust store.
#include "proxy/upstream_trust.h"

#include <openssl/ssl.h>

#include "proxy/proxy.h"
#include "proxy/ssl_error.h"

namespace nixjail::proxy {

UpstreamTrust::UpstreamTrust(const std::filesystem::path& extra_ca_file)
    : context_(asio::ssl::context::tls_client) {
    SSL_CTX* raw = context_.native_handle();
    SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
    if (SSL_CTX_set_default_verify_paths(raw) != 1) {
        throw SslError("cannot load the system trust store for upstream TLS");
    }
    if (!extra_ca_file.empty() &&
        SSL_CTX_load_verify_locations(raw, extra_ca_file.c_str(), nullptr) != 1) {
        throw SslError("cannot load extra upstream CA file '" + extra_ca_file.string() +
                       "'; check that it exists and holds PEM certificates");
    }
    context_.set_verify_mode(asio::ssl::verify_peer);
}

std::shared_ptr<const UpstreamTrust> loadUpstreamTrust(const std::filesystem::path& extra_ca_file) {
    return std::make_shared<const UpstreamTrust>(extra_ca_file);
}

}  // namespace nixjail::proxy
