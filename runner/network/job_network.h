// JobNetwork: one job's network. An anonymous network namespace with nothing but loopback, and the
// job's own MITM proxy listening on 127.0.0.1 inside it while its upstream sockets stay in the
// runner's namespace: the proxy is the job's only way out, and nothing on the host is reachable.
//
// The engine makes one per job (isolating executors) before the first step; every step joins the
// namespace (JailSpec::netns_fd) and gets environment(). Destroying it stops the proxy and closes
// the namespace; nothing is named on the host, so a crashed runner leaves nothing behind.
#pragma once

#include <spdlog/logger.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "proxy/proxy.h"
#include "runner/base/unique_fd.h"
#include "runner/network/secret_placeholder.h"

namespace nixjail::runner::network {

class SpareNetns;  // spare_netns.h

// What the runner's admin and caller decide for every job (exec flags, daemon config).
struct NetworkSettings {
    // The layers composed with proxy::Policy::compose (a job may only narrow): the admin's base
    // policy (empty: deny everything but the forge), the label's and the job's (empty: no layer).
    proxy::Policy admin_policy;
    proxy::Policy label_policy;
    proxy::Policy job_policy;
    std::vector<proxy::Credential> credentials;    // injected on their hosts; the job sees dummies
    // Workflow secrets bound to hosts: each reaches the job as a placeholder (secret_placeholder.h)
    // that the proxy swaps for the real value on those hosts only.
    SecretHosts secret_hosts;
    std::filesystem::path extra_upstream_ca_file;  // trusted for upstream TLS besides the system's
    // The process's upstream trust (the system store and extra_upstream_ca_file, loaded once),
    // shared by every job's proxy; null: each proxy loads its own.
    std::shared_ptr<const proxy::UpstreamTrust> upstream_trust;
    // Gives each job's proxy its CA (proxy::ProxyConfig::authority); null: each generates its own.
    std::function<proxy::CertificateAuthority()> authority;
    std::map<std::string, std::string> host_overrides;  // "git.test" -> "127.0.0.1" (tests)
    // The runner's own services the jobs may use (the actions/cache server), by the names pinned
    // in host_overrides (with their port): allowed ahead of every policy layer, like the forge.
    std::vector<std::string> service_hosts;
    proxy::ProxyTimeouts timeouts;
    bool audit_only = false;  // allow everything, record what the policy would have decided
    // What the job log says about where these settings came from (a repository's network file).
    std::vector<std::string> notes;
    // Namespaces made ahead for the runner's jobs (spare_netns.h); null: each job makes its own.
    std::shared_ptr<SpareNetns> spare_netns;
};

// Per job.
struct JobNetworkSpec {
    std::string job_id;
    // Allowed for every method and path ahead of every policy layer: the forge (server_url's host,
    // api_url's host), which serves the job's git endpoints, API, caches and artifacts.
    std::vector<std::string> forge_hosts;
    // The CA certificate is written to ca_dir_host/ca.pem (mode 0644); steps see
    // ca_dir_jail/ca.pem.
    std::filesystem::path ca_dir_host;
    std::filesystem::path ca_dir_jail;
    std::shared_ptr<spdlog::logger> logger;  // the job's operator logger; null: none
    // false: no namespace; the proxy listens on the runner's own loopback, for a sandbox that
    // lets steps reach only its port (sandbox-exec). netnsFd() is then -1.
    bool own_namespace = true;
    // own_namespace: the namespace, when it was made ahead (createAnonymousNetns); empty: the
    // constructor makes it.
    base::UniqueFd netns;
};

class JobNetwork {
  public:
    // Creates the namespace, starts the proxy in it, writes the CA file. Throws base::Error
    // (SysError without root, ConfigError/Error for a bad credential).
    JobNetwork(const NetworkSettings& settings, JobNetworkSpec spec);
    JobNetwork(const JobNetwork&) = delete;
    JobNetwork& operator=(const JobNetwork&) = delete;
    ~JobNetwork();

    // The job's network namespace, for JailSpec::netns_fd. Valid while this object lives.
    int netnsFd() const { return spec_.own_namespace ? netns_.get() : -1; }
    std::uint16_t proxyPort() const;
    // The proxy's CA certificate (PEM), where the runner wrote it and where steps see it.
    std::filesystem::path caFileHost() const { return spec_.ca_dir_host / "ca.pem"; }
    std::filesystem::path caFileJail() const { return spec_.ca_dir_jail / "ca.pem"; }
    // HTTP(S)_PROXY, http(s)_proxy, NO_PROXY, no_proxy and the CA bundle variables for every step.
    // NO_PROXY lists localhost and 127.0.0.1 (servers the job runs itself), except one pinned in
    // host_overrides: a forge on the runner's host is reached through the proxy by that name.
    std::vector<std::pair<std::string, std::string>> environment() const;
    // Credential name -> dummy value (what the job may see, e.g. as secrets.<name>).
    std::map<std::string, std::string> credentialDummies() const;
    // The audit records since the last call, oldest first (thread-safe; the proxy adds records
    // from its io thread).
    std::vector<proxy::AuditRecord> takeAuditRecords();
    // Closes the proxy's listener and connections; takeAuditRecords() then returns the rest.
    void stop();

  private:
    struct AuditQueue {
        std::mutex mu;
        std::vector<proxy::AuditRecord> records;
    };

    JobNetworkSpec spec_;
    std::map<std::string, std::string> dummies_;
    std::string no_proxy_;  // NO_PROXY: the loopback names not pinned by host_overrides
    std::shared_ptr<AuditQueue> audit_ = std::make_shared<AuditQueue>();
    base::UniqueFd netns_;  // declared before the proxy: it outlives it
    std::optional<proxy::ProxyHandle> proxy_;
};

// The policy a job's proxy applies: settings' layers composed, with the forge hosts allowed first
// in every layer (or as the only layer when no policy is given: default deny for the rest).
proxy::Policy jobPolicy(const NetworkSettings& settings,
                        const std::vector<std::string>& forge_hosts);

// One line for the job log: "allowed GET https://git.test/x (rule: ...)" or
// "denied CONNECT evil.test:443 (rule: admin policy: no rule matched (default deny))".
std::string describeAudit(const proxy::AuditRecord& record);

// The host of a URL ("https://git.example.org:3000/x" -> "git.example.org"), "" if it has none.
std::string urlHost(const std::string& url);

}  // namespace nixjail::runner::network
