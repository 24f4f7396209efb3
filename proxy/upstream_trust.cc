// The upstream TLS client context: TLS 1.2 or later, peers verified against the trust store.
#include "proxy/upstream_trust.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "proxy/proxy.h"
#include "proxy/ssl_error.h"

namespace nixjail::proxy {

UpstreamTrust::UpstreamTrust(const std::filesystem::path& extra_ca_file) : extra_ca_file_(extra_ca_file) {
    // An extra CA file is checked now; the context made for it is the one context() completes.
    if (!extra_ca_file_.empty()) context_.emplace(makeContext(extra_ca_file_));
}

asio::ssl::context UpstreamTrust::makeContext(const std::filesystem::path& extra_ca_file) {
    asio::ssl::context context(asio::ssl::context::tls_client);
    SSL_CTX* raw = context.native_handle();
    SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
    if (!extra_ca_file.empty() && SSL_CTX_load_verify_locations(raw, extra_ca_file.c_str(), nullptr) != 1) {
        throw SslError("cannot load extra upstream CA file '" + extra_ca_file.string() +
                       "'; check that it exists and holds PEM certificates");
    }
    context.set_verify_mode(asio::ssl::verify_peer);
    return context;
}

asio::ssl::context& UpstreamTrust::context() const {
    std::call_once(made_, [this] {
        if (!context_) context_.emplace(makeContext(extra_ca_file_));
        // Fails only when OpenSSL cannot allocate; then nothing but the extra CA is trusted and
        // every handshake names the untrusted certificate.
        if (SSL_CTX_set_default_verify_paths(context_->native_handle()) != 1) ERR_clear_error();
    });
    return *context_;
}

std::shared_ptr<const UpstreamTrust> loadUpstreamTrust(const std::filesystem::path& extra_ca_file) {
    return std::make_shared<const UpstreamTrust>(extra_ca_file);
}

}  // namespace nixjail::proxy
