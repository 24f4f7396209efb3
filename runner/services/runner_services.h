// RunnerServices: what lives as long as the runner process, built once from the configuration by
// both `exec` and the daemon: the executor, the Nix root provider, the checkout cache, the jobs'
// parent directory, the actions/cache and artifact servers with their name pins, and the jobs'
// network settings (policies, credentials). Members are declared in acquisition order, so they are
// released in reverse.
#pragma once

#include <spdlog/logger.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "executor/executor.h"
#include "proxy/policy.h"
#include "runner/base/temp_dir.h"
#include "runner/config/runner_config.h"
#include "runner/engine/checkout_provider.h"
#include "runner/engine/job_root.h"
#include "runner/engine/run_options.h"
#include "runner/job/job_plan.h"
#include "runner/network/job_network.h"
#include "workspace-cache/closure.h"
#include "workspace-cache/storage.h"

namespace nixjail::runner::artifact_server {
class ArtifactServer;
}
namespace nixjail::runner::cache_server {
class CacheServer;
}
namespace nixjail::runner::engine {
class NixRootProvider;
}
namespace nixjail::cache {
class CacheSet;
}

namespace nixjail::runner::services {

class JobDirs;

// Where the two front ends differ, said once here rather than in two composition roots.
struct ServicesContext {
    enum class Role {
        kExec,    // one run from a working tree: services that fail to start are warnings
        kDaemon,  // a long-lived runner: every service must work, or the start stops
    };
    Role role = Role::kDaemon;
    std::filesystem::path default_cache_dir;  // when cache.dir is empty
    cache::NixTools nix_tools;
    std::shared_ptr<spdlog::logger> log;  // null: spdlog's default logger
    std::chrono::milliseconds cancel_grace{5000};  // the executor's SIGTERM to SIGKILL
    std::string instance;     // the runner's tag in systemd unit names
    std::string runner_uuid;  // daemon: names its jobs' parent directory
    // exec: the working tree; its flake.nix's devShell serves jobs that declare no packages.
    std::filesystem::path repo_dir;
    // exec: which setting chose nix.nixpkgs ("--nixpkgs", "nixpkgs in ~/.config/..."), and
    // whether the command line did (then the choice is not announced).
    std::string nixpkgs_from = "--nixpkgs";
    bool nixpkgs_given = false;
    // exec --artifact-server-path: serve artifacts there; empty: no artifact server.
    std::filesystem::path artifact_dir;
    // exec --artifact-server-budget: the most bytes that server keeps (see ArtifactServerConfig).
    std::uint64_t artifact_budget = 10ull << 30;
    // exec -n: nothing is started, checked or created; only the flags and files are read.
    bool dry_run = false;
};

class RunnerServices {
  public:
    // Throws base::Error saying what to fix when a service the configuration asks for cannot work.
    RunnerServices(const config::RunnerConfig& config, ServicesContext context);
    ~RunnerServices();
    RunnerServices(const RunnerServices&) = delete;
    RunnerServices& operator=(const RunnerServices&) = delete;

    executor::Executor& executor() { return *backend_.executor; }
    const std::filesystem::path& cacheDir() const { return cache_.dir; }

    // What every job starts from: executor, root and checkout providers, job directories,
    // network settings, limits, profile and packages. The caller adds the run's own parts.
    engine::RunOptions jobDefaults();
    // Like the root provider in jobDefaults(), but a job that declares no packages gets the
    // devShell of the task repository's flake at the task's commit. Empty when jobs get no roots.
    engine::RootProvider rootsForTask(const nlohmann::json& github);
    // The policy of each runs-on label that names one (config.labels.*.policy).
    const std::map<std::string, proxy::Policy>& labelPolicies() const { return label_policies_; }

    // null: not running (turned off, or exec could not start it).
    cache_server::CacheServer* actionsCache() { return actions_cache_.server.get(); }
    artifact_server::ArtifactServer* artifacts() { return artifacts_.server.get(); }
    // Their base URLs as jobs reach them: through the proxy by a pinned name when jobs are jailed.
    const std::string& actionsCacheUrl() const { return actions_cache_.url; }
    const std::string& artifactsUrl() const { return artifacts_.url; }

    // The daemon's count of job directories a killed predecessor left (swept at start).
    int sweptJobDirs() const;
    // Trims the caches to their budgets (cache.*_budget); logs, never throws.
    void trimCaches();

  private:
    void startRoots();
    void startJobDirs();
    void startServers();
    void loadNetwork();
    // Jailed jobs reach a runner service on the host only through their proxy, by a name pinned
    // to its port (the jail's own 127.0.0.1 is its loopback, and the proxy refuses the host's
    // addresses otherwise). Returns the URL jobs use.
    std::string pinService(const std::string& name, const std::string& base_url, int port);
    engine::CheckoutProvider checkoutProvider();

    // A server the jobs use, and its URL as they reach it.
    template <typename Server>
    struct Pinned {
        std::unique_ptr<Server> server;  // null: not running
        std::string url;
    };
    // Made or used by several jobs' threads at once.
    template <typename T>
    struct Guarded {
        std::mutex mutex;
        std::unique_ptr<T> value;
    };
    // Where jobs' directories go: the daemon's own directory (swept at start), exec's temporary
    // one on a copy-on-write cache, or nowhere ($TMPDIR).
    struct JobsParent {
        std::unique_ptr<JobDirs> daemon;     // <cache>/jobs/nixjail-daemon-<uuid>
        std::unique_ptr<base::TempDir> exec;  // <cache>/jobs/nixjail-exec-*
        std::filesystem::path path;          // empty: $TMPDIR
    };

    // The cache directory and how it stores roots and checkouts.
    struct CacheLocation {
        std::filesystem::path dir;
        std::optional<cache::StorageKind> storage;  // nullopt: detected
    };
    // The executor, and its plan for any job: roots, proxy, owner, job directories.
    struct Backend {
        std::unique_ptr<executor::Executor> executor;
        job::JobPlan plan;
    };

    const config::RunnerConfig& config_;
    ServicesContext context_;  // its log is never null
    CacheLocation cache_;
    Backend backend_;
    JobsParent jobs_;
    Guarded<engine::CachedCheckouts> checkouts_;  // made on first use unless forced
    std::unique_ptr<engine::NixRootProvider> roots_;  // null: jobs get no Nix root
    Guarded<cache::CacheSet> janitor_;                // daemon: trims the caches after jobs
    network::NetworkSettings network_;
    std::map<std::string, proxy::Policy> label_policies_;
    Pinned<cache_server::CacheServer> actions_cache_;
    Pinned<artifact_server::ArtifactServer> artifacts_;
};

}  // namespace nixjail::runner::services
