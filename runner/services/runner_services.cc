// Building the runner's process-lifetime services from the configuration, once, for exec and the
// daemon alike.
#include "runner/services/runner_services.h"

#include <linux/magic.h>
#include <sys/statfs.h>

#include <spdlog/spdlog.h>

#include "executor/executor_factory.h"
#include "runner/artifact_server/artifact_server.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/cache_server/cache_server.h"
#include "runner/engine/nix_root_provider.h"
#include "runner/engine/nixpkgs_locator.h"
#include "runner/network/credential_file.h"
#include "runner/network/spare_netns.h"
#include "runner/services/job_dirs.h"
#include "workspace-cache/cache_set.h"
#include "workspace-cache/job_volume.h"

namespace nixjail::runner::services {

namespace {

namespace fs = std::filesystem;
using Role = ServicesContext::Role;

// How a setting is named in messages: exec's flag, or the daemon's file and key.
std::string origin(const config::RunnerConfig& cfg, Role role, const std::string& key,
                   const std::string& flag) {
    return role == Role::kExec ? flag : cfg.source + ": " + key;
}

bool onCopyOnWriteFilesystem(const fs::path& dir) {
    struct statfs sfs {};
    return ::statfs(dir.c_str(), &sfs) == 0 &&
           (sfs.f_type == BTRFS_SUPER_MAGIC || sfs.f_type == XFS_SUPER_MAGIC);
}

}  // namespace

RunnerServices::RunnerServices(const config::RunnerConfig& config, ServicesContext context)
    : config_(config), context_(std::move(context)) {
    if (!context_.log) context_.log = spdlog::default_logger();
    const Role role = context_.role;
    cache_.dir = config_.cache.dir.empty() ? context_.default_cache_dir : config_.cache.dir;
    cache_.storage = cache::parseStorageChoice(
        config_.cache.storage, origin(config_, role, "cache.storage", "--storage"));
    // A disk quota that cannot be applied stops the start, not every job.
    if (config_.executor.disk > 0 && !context_.dry_run) {
        if (auto why = cache::JobVolume::unavailableReason(); !why.empty()) {
            throw base::Error(
                role == Role::kExec
                    ? "--disk: a job volume cannot be made here: " + why
                    : config_.source +
                          ": executor.limits.disk is set, but a job volume cannot be made here: " +
                          why + "; or remove executor.limits.disk");
        }
    }
    backend_.executor = executor::makeExecutor(
        config_.executor.backend, {.cancel_grace = context_.cancel_grace,
                                   .logger = context_.log,
                                   .instance = context_.instance});
    backend_.plan = job::planJob(backend_.executor->name(), backend_.executor->traits(), {});
    loadNetwork();
    if (context_.dry_run) return;
    startServers();
    // A forced storage backend is proven now, so one that cannot work stops the start.
    if (cache_.storage || role == Role::kDaemon)
        checkouts_.value = std::make_unique<engine::CachedCheckouts>(cache_.dir, cache_.storage);
    startRoots();
    startJobDirs();
}

RunnerServices::~RunnerServices() = default;

void RunnerServices::loadNetwork() {
    // Policies and credentials are read once, at start: a mistake stops the run here.
    network::NetworkSettings& n = network_;
    n.audit_only = config_.proxy.mode == "audit";
    if (n.audit_only && context_.role == Role::kDaemon)
        context_.log->warn("proxy.mode is audit: jobs may reach any host; decisions are only recorded");
    if (!config_.proxy.policy.empty())
        n.admin_policy = proxy::loadPolicyFile(config_.proxy.policy, "admin");
    for (size_t i = 0; i < config_.proxy.credentials.size(); ++i) {
        const auto& c = config_.proxy.credentials[i];
        const std::string where = !c.origin.empty()
                                      ? c.origin
                                      : config_.source + ": proxy.credentials[" +
                                            std::to_string(i) + "]";
        n.credentials.push_back(
            network::resolveCredential({c.name, c.env, c.file, c.hosts, c.header, c.dummy, where}));
    }
    if (!config_.proxy.extra_ca_file.empty())
        n.extra_upstream_ca_file = fs::absolute(config_.proxy.extra_ca_file);
    // Loaded once for every job's proxy (and a bad extra CA file stops the start, not each job).
    if (backend_.plan.proxied() && !context_.dry_run)
        n.upstream_trust = proxy::loadUpstreamTrust(n.extra_upstream_ca_file);
    // The first job's namespace is made while the rest starts (and the daemon's next one while
    // its jobs run): a millisecond or more of the kernel's that each job waited for.
    if (backend_.plan.network == job::JobPlan::Network::kNamespaceProxy && !context_.dry_run)
        n.spare_netns = std::make_shared<network::SpareNetns>(context_.role == Role::kDaemon);
    n.host_overrides.insert(config_.proxy.host_overrides.begin(),
                            config_.proxy.host_overrides.end());
    for (const auto& [name, binding] : config_.proxy.secret_hosts) {
        n.secret_hosts[name] = {binding.hosts, binding.bodies, "runner config"};
    }
    for (const auto& [name, label] : config_.labels) {
        if (!label.policy.empty())
            label_policies_.emplace(name, proxy::loadPolicyFile(label.policy, "label " + name));
    }
}

std::string RunnerServices::pinService(const std::string& name, const std::string& base_url,
                                       int port) {
    if (!backend_.plan.proxied()) return base_url;
    network_.host_overrides[name] = "127.0.0.1:" + std::to_string(port);
    network_.service_hosts.push_back(name);
    return "http://" + name + ":" + std::to_string(port) + "/";
}

void RunnerServices::startServers() {
    // The actions/cache server behind ACTIONS_CACHE_URL. Always started unless its budget is 0: it
    // costs one loopback socket and a thread, and tools other than actions/cache speak its API.
    if (config_.cache.actions_cache_budget > 0) {
        const fs::path dir = config_.cache.actions_cache_dir.empty()
                                 ? cache_.dir / "actions-cache"
                                 : config_.cache.actions_cache_dir;
        try {
            actions_cache_.server = std::make_unique<cache_server::CacheServer>(
                cache_server::CacheServerConfig{.dir = dir,
                                                .budget_bytes = config_.cache.actions_cache_budget,
                                                .logger = context_.log});
            actions_cache_.url = pinService("actions-cache.nixjail.internal",
                                            actions_cache_.server->baseUrl(),
                                            actions_cache_.server->port());
        } catch (const base::Error& e) {
            // For exec a cache is an optimisation: the run goes on without one.
            if (context_.role == Role::kDaemon) throw;
            context_.log->warn("running without an actions/cache server: {}", e.what());
            actions_cache_.server.reset();
        }
    }
    // The artifact server (upload/download-artifact), only where exec is told where artifacts go:
    // unlike a cache, they are output the user keeps.
    if (!context_.artifact_dir.empty()) {
        artifacts_.server = std::make_unique<artifact_server::ArtifactServer>(
            artifact_server::ArtifactServerConfig{.dir = fs::absolute(context_.artifact_dir),
                                                  .budget_bytes = context_.artifact_budget});
        artifacts_.url = pinService("artifacts.nixjail.internal", artifacts_.server->baseUrl(),
                                    artifacts_.server->port());
    }
}

void RunnerServices::startRoots() {
    if (backend_.plan.root != job::JobPlan::Root::kNixRoot) return;
    const Role role = context_.role;
    engine::NixRootConfig roots{
        engine::nixpkgsArgument(config_.nix.nixpkgs, fs::current_path()), cache_.dir,
        context_.nix_tools};
    roots.storage = cache_.storage;
    const auto& defaults = config_.nix.default_packages;
    for (auto it = defaults.rbegin(); it != defaults.rend(); ++it)
        roots.default_packages.prepend(it->first, it->second);
    // exec: a working tree's flake devShell serves jobs that declare no packages (no nixpkgs
    // needed then); nixpkgs is found once, before any job.
    const bool hasFlake = role == Role::kExec && fs::exists(context_.repo_dir / "flake.nix");
    if (hasFlake) roots.devshell_flake = context_.repo_dir;
    if (role == Role::kExec) {
        try {
            const auto found =
                engine::locateNixpkgs(config_.nix.nixpkgs, context_.nixpkgs_from,
                                      fs::current_path(), engine::nixCommand(roots.tools),
                                      engine::nixPathOf(roots.tools));
            roots.nixpkgs = found.expression;
            if (!context_.nixpkgs_given)
                context_.log->info("packages come from '{}' ({})", found.expression, found.found_by);
        } catch (const base::Error&) {
            if (!hasFlake) throw;
        }
    }
    roots_ = std::make_unique<engine::NixRootProvider>(std::move(roots));
    // A Nix that cannot build stops the daemon's start, not every job at its nix-build. exec asks
    // only before its first Nix call: a package set resolved before needs none.
    if (role == Role::kDaemon) roots_->checkNixCanBuild();
}

void RunnerServices::startJobDirs() {
    // Jobs' directories live on the cache's filesystem where it shares data (btrfs snapshots,
    // reflinks), so their roots and checkouts are snapshots rather than copies. A jail's setup
    // runs as the jail's host ids, which must traverse (not list) the cache directory.
    if (context_.role == Role::kDaemon) {
        fs::create_directories(cache_.dir);
        fs::permissions(cache_.dir, fs::perms::group_exec | fs::perms::others_exec,
                        fs::perm_options::add);
        jobs_.daemon = std::make_unique<JobDirs>(cache_.dir / "jobs", context_.runner_uuid, *context_.log);
        if (backend_.plan.step_owner) {
            if (const auto p = base::firstNotSearchableByOthers(cache_.dir); !p.empty()) {
                throw base::Error("the jails cannot reach their job directories in '" +
                                  cache_.dir.string() + "': '" + p.string() +
                                  "' is not searchable by others; chmod o+x '" + p.string() +
                                  "', or set cache.dir elsewhere");
            }
        }
        jobs_.path = jobs_.daemon->path();
        janitor_.value = std::make_unique<cache::CacheSet>(cache_.dir, cache_.storage);
        context_.log->info("cache directory '{}': {} storage{}", cache_.dir.string(),
                   cache::toString(janitor_.value->storage().kind()),
                   cache_.storage ? " (cache.storage)" : " (detected)");
        if (!cache_.storage && janitor_.value->storage().kind() == cache::StorageKind::kCopy) {
            context_.log->warn(
                "cache directory '{}' has neither btrfs subvolumes nor reflinks: every job root "
                "and checkout is a full copy; put cache.dir on btrfs or XFS (or set "
                "cache.storage: copy to silence this)",
                cache_.dir.string());
        }
        return;
    }
    // exec: elsewhere $TMPDIR serves as well.
    if (!backend_.plan.job_dirs_on_cache_fs || cache_.storage == cache::StorageKind::kCopy) return;
    fs::create_directories(cache_.dir);
    if (!onCopyOnWriteFilesystem(cache_.dir)) return;
    if (const auto p = base::firstNotSearchableByOthers(cache_.dir); !p.empty()) {
        context_.log->warn(
            "job directories go to $TMPDIR, so roots and checkouts are copies: the jails cannot "
            "reach '{}' ('{}' is not searchable by others; chmod o+x)",
            cache_.dir.string(), p.string());
        return;
    }
    fs::create_directories(cache_.dir / "jobs");
    jobs_.exec = std::make_unique<base::TempDir>("nixjail-exec-", cache_.dir / "jobs");
    fs::permissions(jobs_.exec->path(), fs::perms::group_exec | fs::perms::others_exec,
                    fs::perm_options::add);
    jobs_.path = jobs_.exec->path();
}

engine::CheckoutProvider RunnerServices::checkoutProvider() {
    return [this](const engine::CheckoutSpec& spec, const fs::path& dst) {
        engine::CachedCheckouts* checkouts = nullptr;
        {
            // Made on first use: most exec runs check out only the local working tree.
            std::lock_guard lock(checkouts_.mutex);
            if (!checkouts_.value)
                checkouts_.value = std::make_unique<engine::CachedCheckouts>(cache_.dir, cache_.storage);
            checkouts = checkouts_.value.get();
        }
        return checkouts->checkout(spec, dst);  // thread-safe (CheckoutCache locks)
    };
}

engine::RunOptions RunnerServices::jobDefaults() {
    engine::RunOptions o;
    o.executor = backend_.executor.get();
    if (roots_) o.root_provider = roots_->asProvider();
    o.checkout_provider = checkoutProvider();
    o.work_dir = jobs_.path;
    o.network = network_;
    o.packages = config_.nix.packages;
    o.limits.memory_max_bytes = config_.executor.memory;
    o.limits.pids_max = config_.executor.pids;
    o.limits.cpu_quota = config_.executor.cpu_quota;
    o.limits.disk_max_bytes = config_.executor.disk;
    // "jit-runtime" is the old name of what is now the default.
    if (config_.executor.profile == "strict") o.profile = executor::HardeningProfile::kStrict;
    engine::ImageTable admin;
    for (const auto& img : config_.services.images) {
        admin.services.push_back({.image = img.image,
                                  .packages = img.packages,
                                  .start = img.start,
                                  .ready = img.ready,
                                  .ports = img.ports,
                                  .env = img.env,
                                  .origin = config_.source + " (services.images)"});
    }
    for (const auto& img : config_.container.images) {
        admin.containers.push_back(
            {.image = img.image, .packages = img.packages, .origin = config_.source + " (container.images)"});
    }
    o.images = engine::withExtraImages(engine::builtinImages(), admin);
    o.services_ready_timeout = config_.services.ready_timeout;
    return o;
}

engine::RootProvider RunnerServices::rootsForTask(const nlohmann::json& github) {
    if (!roots_) return {};
    return roots_->forTask(github, checkoutProvider());
}

int RunnerServices::sweptJobDirs() const { return jobs_.daemon ? jobs_.daemon->swept() : 0; }

void RunnerServices::trimCaches() {
    if (!janitor_.value) return;
    std::lock_guard lock(janitor_.mutex);
    try {
        const cache::CacheBudgets budgets{config_.cache.roots_budget,
                                          config_.cache.workspace_budget, config_.cache.git_budget};
        const auto removed = janitor_.value->prune(budgets);
        const size_t n = removed.roots.size() + removed.checkouts.size() + removed.git.size();
        if (n > 0) {
            context_.log->info("cache budgets: removed {} roots, {} checkouts, {} git mirrors",
                       removed.roots.size(), removed.checkouts.size(), removed.git.size());
        }
    } catch (const std::exception& e) {
        context_.log->warn("trimming the caches in '{}' to their budgets failed: {}", cache_.dir.string(),
                   e.what());
    }
}

}  // namespace nixjail::runner::services
