// TLS context set-up for both sides of the interception, and the leaf cache.
#include "proxy/proxy_context.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/ssl.h>

#include "proxy/ssl_error.h"

namespace nixjail::proxy {

namespace {

// A job can name many hosts; past this the cache starts over rather than growing without end.
constexpr std::size_t kMaxCachedLeaves = 4096;

std::shared_ptr<spdlog::logger> loggerOrNull(std::shared_ptr<spdlog::logger> logger) {
    if (logger) return logger;
    return std::make_shared<spdlog::logger>("proxy");  // no sinks: drops everything
}

}  // namespace

ProxyContext::ProxyContext(ProxyConfig config)
    : config_(std::move(config)),
      logger_(loggerOrNull(config_.logger)),
      ca_(config_.authority ? config_.authority() : CertificateAuthority::generate(kJobCaName)),
      upstream_trust_(config_.upstream_trust ? config_.upstream_trust
                                                : loadUpstreamTrust(config_.extra_upstream_ca_file)) {
    for (const auto& [host, value] : config_.host_overrides) parseHostOverride(value);  // throws early
}

std::shared_ptr<asio::ssl::context> ProxyContext::serverTlsFor(const std::string& host) {
    if (auto it = server_tls_.find(host); it != server_tls_.end()) return it->second;
    if (server_tls_.size() >= kMaxCachedLeaves) server_tls_.clear();
    LeafCertificate leaf = ca_.mintLeafCertificate(host);
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    SSL_CTX* raw = ctx->native_handle();
    SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate(raw, leaf.certificate.get()) != 1 ||
        SSL_CTX_use_PrivateKey(raw, leaf.key) != 1) {
        throw SslError("cannot install the leaf certificate for '" + host + "'");
    }
    server_tls_.emplace(host, ctx);
    return ctx;
}

void ProxyContext::audit(const AuditRecord& record) const {
    logger_->debug("{} {}:{}{} {} status={} up={} down={}{}{}", record.method, record.host,
                   record.port, record.path, toString(record.decision), record.status,
                   record.bytes_up, record.bytes_down,
                   record.credentials.empty() ? "" : " credentials=" + fmt::format("{}", fmt::join(record.credentials, ",")),
                   record.error.empty() ? "" : " error=" + record.error);
    if (!config_.audit) return;
    try {
        config_.audit(record);
    } catch (const std::exception& e) {
        // The sink is the caller's; its failure must not take the connection down with it.
        logger_->warn("audit sink failed, ignoring: {}", e.what());
    }
}

}  // namespace nixjail::proxy
