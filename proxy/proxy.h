// The per-job proxy: an HTTP/1.1 forward proxy and TLS-intercepting CONNECT proxy that applies a
// Policy to every request, swaps dummy credentials for real ones on their allowed hosts, and
// reports every decision to an audit sink. One proxy per job; destroying its handle stops it.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/cert_authority.h"
#include "proxy/policy.h"
#include "runner/base/secret.h"

namespace nixjail::proxy {

// A credential the job may use without seeing: the job gets `dummy`; on requests to one of `hosts`
// over TLS the proxy replaces the dummy with `value` in every request header value (also inside
// "Authorization: Basic" user:password), so the template form, git's Basic auth and custom headers
// all work, and in the query string. With in_bodies, also in request bodies (as it is and
// percent-encoded). Elsewhere, and over plain http, the dummy is forwarded unchanged. The real
// value is turned back into the dummy in responses (or masked with '*' in a body when the dummy
// has another length); it is never logged or audited. Not covered: the path, compressed bodies,
// WebSocket data.
struct Credential {
    std::string name;
    base::Secret value;
    std::vector<std::string> hosts;  // exact host names or globs, as in policy rules
    std::string header_template;     // e.g. "Authorization: token {token}"; see dummyHeaderLine()
    std::string dummy;               // at least 8 characters, unlike any real value
    // Also injected into plain-HTTP requests. Only for the forge's own token when the runner itself
    // talks to that forge over http:// (the value crosses that network in clear anyway).
    bool plain_http = false;
    // Also swapped in request bodies to its hosts; the dummy must be as long as the value (secret
    // placeholders are). Only where the admin allows it: a host that echoes a body back, or
    // stores it where the job can read it, hands the real value to the job.
    bool in_bodies = false;
};

// The header line the job should send, with the dummy: header_template with {token} replaced
// ("Authorization: token DUMMY"), e.g. for git's http.extraHeader. Empty without a template.
std::string dummyHeaderLine(const Credential& credential);

struct AuditRecord {
    std::chrono::system_clock::time_point time;
    std::string method;  // "CONNECT" for a refused tunnel
    std::string host;
    std::uint16_t port = 0;
    std::string path;  // without query
    PolicyDecision decision = PolicyDecision::kDeny;
    bool enforced = true;  // false in audit-only mode, where a deny was let through
    std::string rule;      // PolicyVerdict::describe()
    int status = 0;        // status sent to the client; 0 when the connection broke before that
    std::uint64_t bytes_up = 0;             // request body bytes sent upstream
    std::uint64_t bytes_down = 0;           // response body bytes sent to the client
    std::vector<std::string> credentials;  // names of the credentials injected, never a value
    std::string error;                      // why a 502/504 was sent, or why the exchange broke
};

// Called on the proxy's io thread (for exchanges cut short by stop(), on the thread calling stop()
// or destroying the handle); must not block for long.
using AuditSink = std::function<void(const AuditRecord&)>;

struct ProxyTimeouts {
    std::chrono::milliseconds connect{std::chrono::seconds(30)};  // resolve + TCP + TLS upstream
    std::chrono::milliseconds idle{std::chrono::minutes(5)};  // no byte moved in either direction
    std::chrono::milliseconds total{std::chrono::hours(2)};   // one request/response exchange
};

class UpstreamTrust;  // proxy/upstream_trust.h

// The system's CA bundle (loaded at the first upstream TLS connection) and `extra_ca_file` (if any,
// loaded now), once for every proxy of the process to share (ProxyConfig::upstream_trust): each
// proxy loading them again costs tens of milliseconds. Throws SslError naming the extra file when
// it cannot be loaded.
std::shared_ptr<const UpstreamTrust> loadUpstreamTrust(const std::filesystem::path& extra_ca_file = {});

struct ProxyConfig {
    Policy policy;  // compose() the admin, label and job layers before passing it
    std::vector<Credential> credentials;
    // -1: listen in the proxy's own network namespace. Otherwise an fd of the job's netns
    // (/proc/<pid>/ns/net); the listening socket is created inside it, everything else stays here.
    int listen_netns_fd = -1;
    std::string listen_address = "127.0.0.1";
    std::uint16_t listen_port = 0;  // 0: ephemeral, see ProxyHandle::port()
    // What upstream TLS trusts, shared with other proxies (loadUpstreamTrust). Null: this proxy
    // loads the system store itself, plus extra_upstream_ca_file (tests use a private CA).
    std::shared_ptr<const UpstreamTrust> upstream_trust;
    std::filesystem::path extra_upstream_ca_file;
    // Gives this proxy its CA, one never given to another (TlsWarmup::authorities). Null: the
    // proxy generates its own.
    std::function<CertificateAuthority()> authority;
    // Connect to this address instead of resolving the host ("git.test" -> "127.0.0.1"); the TLS
    // name check still uses the host. "IP:PORT" also pins the port: other ports of that host are
    // refused. For tests, pinning the forge host, and the runner's own services (actions/cache).
    std::map<std::string, std::string> host_overrides;
    // Resolved upstream addresses on the runner's own host (loopback, its interface addresses,
    // link-local such as cloud metadata, 0.0.0.0/8) are refused whatever the policy says; only
    // host_overrides may point there. True lets them through (the proxy's own tests only).
    bool allow_host_upstreams = false;
    ProxyTimeouts timeouts;
    // Allow everything, but audit what the policy would have decided (for `policy suggest`).
    bool audit_only = false;
    AuditSink audit;
    std::shared_ptr<spdlog::logger> logger;  // null: a private logger that drops everything
};

class ProxyService;

// Owns the running proxy: destroying it (or stop()) closes the listener and every connection and
// joins the io thread.
class ProxyHandle {
  public:
    ProxyHandle(ProxyHandle&&) noexcept;
    ProxyHandle& operator=(ProxyHandle&&) noexcept;
    ProxyHandle(const ProxyHandle&) = delete;
    ProxyHandle& operator=(const ProxyHandle&) = delete;
    ~ProxyHandle();

    std::uint16_t port() const;
    const std::string& address() const;
    // The CA certificate the job must trust (SSL_CERT_FILE and friends). The key never leaves.
    const std::string& caCertificatePem() const;
    void stop();

  private:
    friend ProxyHandle startProxy(ProxyConfig config);
    explicit ProxyHandle(std::unique_ptr<ProxyService> service);
    std::unique_ptr<ProxyService> service_;
};

// Validates the config, generates the CA, binds the listener and starts the io thread.
// Throws base::Error (bad credential), SysError (bind, setns) or SslError.
ProxyHandle startProxy(ProxyConfig config);

}  // namespace nixjail::proxy
