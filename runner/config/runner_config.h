// The runner's configuration, one schema for both front ends: the daemon reads it from its YAML
// file, and `exec` fills the same structs from its flags (runner/cli/exec_config.h). Plain
// structs with the defaults as member initialisers. The NixOS module renders exactly these keys;
// keys may be added, never renamed. A few fields are set by exec's flags only (said beside them).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runner/base/result.h"
#include "runner/workflow/diagnostic.h"

namespace nixjail::runner::config {

using std::chrono::milliseconds;

struct LabelConfig {
    std::vector<std::string> packages;  // Nix attributes every job with this label gets
    std::string profile = "default";    // hardening profile: default | strict (jit-runtime: default)
    std::string policy;                 // the network policy for jobs with this label
};

struct CredentialConfig {
    std::string name;
    std::string env;   // the token comes from this environment variable ...
    std::string file;  // ... or from this file
    std::vector<std::string> hosts;
    std::string header;  // "Authorization: Bearer {token}"
    std::string dummy;   // what the job sees instead of the token
    std::string origin;  // where it was written ("creds.yaml:3:3"); empty: proxy.credentials[i]
};

// services.images: a Docker image of `services:` mapped to a jailed Nix service
// (engine::ServiceDefinition has the meaning of each field).
struct ServiceImageConfig {
    std::string image;
    std::vector<std::string> packages;
    std::string start;
    std::string ready;
    std::vector<uint16_t> ports;
    std::map<std::string, std::string> env;
    bool operator==(const ServiceImageConfig&) const = default;
};

// container.images: a Docker image of `container:` mapped to packages added to the job's root.
struct ContainerImageConfig {
    std::string image;
    std::vector<std::string> packages;
    bool operator==(const ContainerImageConfig&) const = default;
};

struct RunnerConfig {
    struct Log {
        std::string level = "info";   // trace | debug | info | warn | error
        std::string format = "text";  // text | json
    } log;
    struct Runner {
        std::filesystem::path file = ".runner";
        int capacity = 1;
        milliseconds fetch_interval{2000};
        milliseconds fetch_timeout{5000};
        milliseconds job_timeout = std::chrono::hours(3);
        milliseconds shutdown_timeout = std::chrono::minutes(3);
        std::vector<std::string> labels;  // non-empty: replaces the runner file's labels at Declare
    } runner;
    std::map<std::string, LabelConfig> labels;
    struct Cache {
        std::filesystem::path dir;  // empty: /var/cache/nixjail-runner as root, else ~/.cache/...
        std::string storage = "auto";  // auto | btrfs | reflink | copy
        uint64_t git_budget = 10ull << 30;
        uint64_t workspace_budget = 20ull << 30;
        uint64_t roots_budget = 20ull << 30;
        // The runner's actions/cache server (ACTIONS_CACHE_URL) keeps entries in <dir>/actions-cache
        // up to this size, least recently used out first; 0: no server, jobs get no ACTIONS_CACHE_URL.
        uint64_t actions_cache_budget = 10ull << 30;
        // exec's --cache-server-dir: where that server keeps its entries; empty: <dir>/actions-cache.
        std::filesystem::path actions_cache_dir;
    } cache;
    struct Nix {
        std::string nixpkgs = "<nixpkgs>";
        // runs-on label (shell globs allowed) -> packages for a job that declares none and whose
        // repository has no flake devShell; in file order, ahead of the built-in mapping
        // (ubuntu-*, linux, self-hosted: engine::ubuntuBasePackages()). [] maps a label to nothing.
        std::vector<std::pair<std::string, std::vector<std::string>>> default_packages;
        // exec's --packages: what every job's root holds (the daemon sets packages per label).
        std::vector<std::string> packages;
    } nix;
    struct Executor {
        std::string backend = "auto";  // auto | namespace | systemd | host
        uint64_t memory = 4ull << 30;
        uint32_t pids = 4096;
        double cpu_quota = 0;  // CPUs (200% = 2); 0: unlimited
        uint64_t disk = 0;     // each job's workspace quota (a volume of its own); 0: none
        // exec's --profile: every job's hardening profile (the daemon sets it per label).
        std::string profile = "default";  // default | strict (jit-runtime: default)
    } executor;
    struct Proxy {
        // enforce: the policy decides; audit: everything is allowed and recorded with what the
        // policy would have decided (`nixjail-runner policy suggest JOB` turns it into a policy).
        std::string mode = "enforce";
        std::filesystem::path policy;
        std::filesystem::path extra_ca_file;
        std::vector<CredentialConfig> credentials;
        // Host name -> "IP" or "IP:PORT": the proxies connect there for that name (TLS still
        // checks the name). The way to reach a forge whose name resolves to the runner's own
        // host, which the proxies otherwise refuse; an IP:PORT pin opens only that port.
        std::map<std::string, std::string> host_overrides;
        // Workflow secret name -> the hosts it is for: the job sees a placeholder, which its
        // proxy swaps for the real value in requests to those hosts only (in request bodies too
        // with `bodies`).
        struct SecretHosts {
            std::vector<std::string> hosts;
            bool bodies = false;
            bool operator==(const SecretHosts&) const = default;
        };
        std::map<std::string, SecretHosts> secret_hosts;
        // Read .nixjail-network.yaml of the job's repository at its commit: its `rules` narrow
        // the policy as the job's layer, its `secret_hosts` bind secrets left unbound here.
        bool repository_policy = false;
    } proxy;
    struct Services {
        std::vector<ServiceImageConfig> images;  // ahead of the built-in ones
        // How long the job waits for its services to be ready (an image's --health-* options
        // may ask for longer).
        milliseconds ready_timeout = std::chrono::minutes(2);
    } services;
    struct Container {
        std::vector<ContainerImageConfig> images;  // ahead of the built-in ones
    } container;
    std::filesystem::path database = "jobs.sqlite";
    struct Metrics {
        std::string address = "127.0.0.1:9464";  // host:port; empty: off
    } metrics;

    std::string source;  // the file it was read from, for messages
};

// Every problem in the text at once, as file:line:col diagnostics ("did you mean ...?").
base::Result<RunnerConfig, workflow::Diagnostics> parseConfig(const std::string& text,
                                                              const std::string& file);
// Reads and parses the file; throws base::Error with all diagnostics when it is invalid.
// An empty path gives the defaults.
RunnerConfig loadConfigFile(const std::filesystem::path& path);

// "2s", "500ms", "3m", "3h", "1d", "1h30m"; nullopt when malformed or without a unit.
std::optional<milliseconds> parseDuration(const std::string& text);
// "10G", "512M", "64K", "1T", "1024" (bytes); also "10GiB"/"10GB". nullopt when malformed.
std::optional<uint64_t> parseByteSize(const std::string& text);
// "200%" (2 CPUs), "1.5" (CPUs), "0" (unlimited).
std::optional<double> parseCpuQuota(const std::string& text);

// The documented example that `generate-config` prints; parseConfig accepts it.
const std::string& exampleConfig();

}  // namespace nixjail::runner::config
