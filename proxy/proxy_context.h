// What every connection of one proxy shares: config, logger, CA, TLS contexts. Used only on the
// proxy's io thread, except for construction.
#pragma once

#include <spdlog/logger.h>

#include <map>
#include <memory>
#include <string>

#include "proxy/asio_config.h"
#include "proxy/cert_authority.h"
#include "proxy/proxy.h"
#include "proxy/upstream_guard.h"
#include "proxy/upstream_trust.h"

namespace nixjail::proxy {

class ProxyContext {
  public:
    // Throws SslError when the CA or the upstream TLS context cannot be set up.
    explicit ProxyContext(ProxyConfig config);

    const ProxyConfig& config() const { return config_; }
    spdlog::logger& log() const { return *logger_; }
    const CertificateAuthority& authority() const { return ca_; }
    asio::ssl::context& upstreamTls() { return upstream_trust_->context(); }
    const UpstreamGuard& guard() const { return guard_; }
    // A server context presenting a leaf certificate for `host`, minted on first use. Throws
    // SslError.
    std::shared_ptr<asio::ssl::context> serverTlsFor(const std::string& host);
    void audit(const AuditRecord& record) const;

  private:
    ProxyConfig config_;
    std::shared_ptr<spdlog::logger> logger_;
    CertificateAuthority ca_;
    std::shared_ptr<const UpstreamTrust> upstream_trust_;
    UpstreamGuard guard_ = UpstreamGuard::forThisHost();
    std::map<std::string, std::shared_ptr<asio::ssl::context>> server_tls_;
};

}  // namespace nixjail::proxy
