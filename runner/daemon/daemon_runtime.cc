// Building the daemon's parts from the configuration, and the start-up sweep.
#include "runner/daemon/daemon_runtime.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cctype>

#include "executor/executor_factory.h"
#include "executor/namespace/namespace_executor.h"
#include "executor/systemd/systemd_executor.h"
#include "proxy/policy.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/cache_server/cache_server.h"
#include "runner/daemon/job_dirs.h"
#include "runner/daemon/job_recorder.h"
#include "runner/daemon/metrics_server.h"
#include "runner/engine/nix_root_provider.h"
#include "runner/engine/nixpkgs_locator.h"
#include "runner/forge/forgejo_client.h"
#include "runner/network/credential_file.h"
#include "workspace-cache/cache_set.h"
#include "workspace-cache/job_volume.h"
#include "workspace-cache/nix_preflight.h"

namespace nixjail::runner::daemon {

namespace {

namespace fs = std::filesystem;

// %v as a JSON string body, for log.format: json.
class JsonMessageFlag : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        for (char c : std::string_view(msg.payload.data(), msg.payload.size())) {
            switch (c) {
                case '"':
                    dest.append(std::string_view("\\\""));
                    break;
                case '\\':
                    dest.append(std::string_view("\\\\"));
                    break;
                case '\n':
                    dest.append(std::string_view("\\n"));
                    break;
                case '\t':
                    dest.append(std::string_view("\\t"));
                    break;
                default:
                    if (static_cast<unsigned char>(c) < 0x20) {
                        char buf[8];
                        std::snprintf(buf, sizeof buf, "\\u%04x", c);
                        dest.append(std::string_view(buf));
                    } else {
                        dest.push_back(c);
                    }
            }
        }
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<JsonMessageFlag>();
    }
};

// The runner's tag in its systemd units' names: the first 12 hex digits of its uuid.
std::string systemdInstance(const std::string& uuid) {
    std::string tag;
    for (char c : uuid)
        if (std::isxdigit(static_cast<unsigned char>(c)) && tag.size() < 12) tag += c;
    return tag.empty() ? "runner" : tag;
}

// Leftovers of a runner that died: jails' cgroups and staging directories, and jobs the database
// still shows running (failed now, and told to the forge so it need not wait for its zombie timer).
void sweepAtStartup(const std::string& executor_name, const std::string& instance, int job_dirs,
                    store::JobStore& store, forge::ForgeClient& client, spdlog::logger& log) {
    std::string detail;
    if (executor_name == "systemd") {
        executor::SystemdOptions o;
        o.instance = instance;
        try {
            executor::sweepSystemdUnits(o);
            detail = "systemd units of instance " + instance + " stopped";
        } catch (const std::exception& e) {
            detail = std::string("sweep failed: ") + e.what();
            log.warn("start-up sweep of systemd step units failed, ignoring: {}", e.what());
        }
    } else if (executor_name == "namespace") {
        try {
            const auto swept = executor::sweepLeftovers();
            detail = fmt::format("cgroups={} staging_dirs={}", swept.cgroups, swept.staging_dirs);
            if (swept.cgroups + swept.staging_dirs > 0)
                log.info("start-up sweep removed {}", detail);
        } catch (const std::exception& e) {
            detail = std::string("sweep failed: ") + e.what();
            log.warn("start-up sweep of jail leftovers failed, ignoring: {}", e.what());
        }
    } else {
        detail = "executor=" + executor_name + ", no namespace jails to sweep";
    }
    const auto tasks = store.failInterruptedJobs(nowMs(), "the runner stopped while the job ran");
    detail += fmt::format(" job_dirs={} interrupted_jobs={}", job_dirs, tasks.size());
    for (int64_t id : tasks) {
        forge::TaskState state{
            .id = id, .result = forge::Result::Failure, .stopped_at = forge::Clock::now()};
        try {
            client.updateTask(state, {});
            log.warn("task {} was still running when the runner stopped; reported it failed", id);
        } catch (const std::exception& e) {
            log.warn(
                "task {} was still running when the runner stopped; telling the forge failed, "
                "ignoring: {}",
                id, e.what());
        }
    }
    store.recordEvent(nowMs(), "startup_sweep", detail);
}

}  // namespace

std::shared_ptr<spdlog::logger> makeDaemonLogger(const DaemonConfig& config,
                                                 spdlog::sink_ptr sink) {
    if (!sink) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto log = std::make_shared<spdlog::logger>("nixjail", std::move(sink));
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    if (config.log.format == "json") {
        formatter->add_flag<JsonMessageFlag>('*').set_pattern(
            R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","logger":"%n","message":"%*"})");
    } else {
        formatter->set_pattern("%Y-%m-%d %H:%M:%S.%e %l [%n] %v");
    }
    log->set_formatter(std::move(formatter));
    log->set_level(spdlog::level::from_str(config.log.level));
    log->flush_on(spdlog::level::trace);
    return log;
}

struct DaemonRuntime::Impl {
    DaemonConfig config;
    std::shared_ptr<spdlog::logger> log;
    forge::RunnerFile runner;
    std::unique_ptr<forge::ForgejoClient> report_client, fetch_client;
    std::unique_ptr<store::JobStore> store;
    Metrics metrics;
    std::unique_ptr<executor::Executor> executor;
    std::unique_ptr<JobDirs> job_dirs;
    std::unique_ptr<engine::NixRootProvider> roots;
    std::unique_ptr<engine::CachedCheckouts> checkouts;  // thread-safe (CheckoutCache locks)
    std::mutex janitor_mutex;
    std::unique_ptr<cache::CacheSet> janitor;  // trims the caches to cache.*_budget after jobs
    std::unique_ptr<MetricsServer> metrics_server;
    std::unique_ptr<cache_server::CacheServer> actions_cache;  // null: cache.actions_cache_budget 0
    std::unique_ptr<Daemon> daemon;
};

DaemonRuntime::DaemonRuntime(DaemonConfig config, const fs::path& default_cache_dir,
                             cache::NixTools nix_tools, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<Impl>()) {
    auto& m = *impl_;
    m.config = std::move(config);
    m.log = std::move(log);
    const DaemonConfig& cfg = m.config;
    m.runner = forge::readRunnerFile(cfg.runner.file);
    m.report_client = std::make_unique<forge::ForgejoClient>(forge::ForgeEndpoint{
        m.runner.address, m.runner.uuid, m.runner.token, std::chrono::seconds(30)});
    m.fetch_client = std::make_unique<forge::ForgejoClient>(forge::ForgeEndpoint{
        m.runner.address, m.runner.uuid, m.runner.token, cfg.runner.fetch_timeout});
    m.store = std::make_unique<store::JobStore>(cfg.database);
    // A forge cancel must end a job within 2 s: SIGTERM, then SIGKILL after 1 s.
    const std::string instance = systemdInstance(m.runner.uuid);  // names its systemd units
    m.executor = executor::makeExecutor(
        cfg.executor.backend,
        {.cancel_grace = std::chrono::milliseconds(1000), .logger = m.log, .instance = instance});
    // A disk quota that cannot be applied stops the start, not every job.
    if (cfg.executor.disk > 0) {
        if (auto why = cache::JobVolume::unavailableReason(); !why.empty()) {
            throw base::Error(
                cfg.source +
                ": executor.limits.disk is set, but a job volume cannot be made here: " + why +
                "; or remove executor.limits.disk");
        }
    }
    // Likewise a Nix that cannot build (no build users, store not writable, not installed).
    if (m.executor->isolatesFilesystem()) cache::checkNixCanBuild(nix_tools);
    const fs::path cache_dir = cfg.cache.dir.empty() ? default_cache_dir : cfg.cache.dir;
    // Jobs' directories live on the cache's filesystem, so roots and checkouts are snapshots or
    // reflinks of the cached ones. A jail's setup runs as the jail's host ids, which must
    // traverse (not list) the cache directory to reach them.
    fs::create_directories(cache_dir);
    fs::permissions(cache_dir, fs::perms::group_exec | fs::perms::others_exec,
                    fs::perm_options::add);
    m.job_dirs = std::make_unique<JobDirs>(cache_dir / "jobs", m.runner.uuid, *m.log);
    if (m.executor->stepOwner()) {
        if (const auto p = base::firstNotSearchableByOthers(cache_dir); !p.empty()) {
            throw base::Error("the jails cannot reach their job directories in '" +
                              cache_dir.string() + "': '" + p.string() +
                              "' is not searchable by others; chmod o+x '" + p.string() +
                              "', or set cache.dir elsewhere");
        }
    }
    sweepAtStartup(m.executor->name(), instance, m.job_dirs->swept(), *m.store, *m.report_client,
                   *m.log);

    // Every cache opens its storage now, so a cache.storage that cannot work stops the start.
    const auto storage =
        cache::parseStorageChoice(cfg.cache.storage, cfg.source + ": cache.storage");
    if (m.executor->isolatesFilesystem()) {
        // A path is taken from the working directory; <nixpkgs> and URLs are Nix's to resolve.
        const fs::path nixpkgs = engine::nixpkgsArgument(cfg.nix.nixpkgs, fs::current_path());
        engine::NixRootConfig roots_config{nixpkgs, cache_dir, std::move(nix_tools)};
        roots_config.storage = storage;
        for (auto it = cfg.nix.default_packages.rbegin(); it != cfg.nix.default_packages.rend(); ++it)
            roots_config.default_packages.prepend(it->first, it->second);
        m.roots = std::make_unique<engine::NixRootProvider>(std::move(roots_config));
    }
    m.checkouts = std::make_unique<engine::CachedCheckouts>(cache_dir, storage);
    m.janitor = std::make_unique<cache::CacheSet>(cache_dir, storage);
    m.log->info("cache directory '{}': {} storage{}", cache_dir.string(),
                cache::toString(m.janitor->storage().kind()),
                storage ? " (cache.storage)" : " (detected)");
    if (!storage && m.janitor->storage().kind() == cache::StorageKind::kCopy) {
        m.log->warn(
            "cache directory '{}' has neither btrfs subvolumes nor reflinks: every job root and "
            "checkout is a full copy; put cache.dir on btrfs or XFS (or set cache.storage: copy to "
            "silence this)",
            cache_dir.string());
    }
    if (!cfg.metrics.address.empty())
        m.metrics_server = std::make_unique<MetricsServer>(cfg.metrics.address, m.metrics);
    if (cfg.cache.actions_cache_budget > 0) {
        m.actions_cache = std::make_unique<cache_server::CacheServer>(
            cache_server::CacheServerConfig{.dir = cache_dir / "actions-cache",
                                            .budget_bytes = cfg.cache.actions_cache_budget,
                                            .logger = m.log});
    }

    DaemonParts parts;
    parts.fetch_client = m.fetch_client.get();
    parts.report_client = m.report_client.get();
    parts.runner = m.runner;
    JobResources& res = parts.resources;
    res.config = &m.config;
    res.client = m.report_client.get();
    res.store = m.store.get();
    res.metrics = &m.metrics;
    res.executor = m.executor.get();
    if (m.roots) {
        res.root_provider = m.roots->asProvider();
        res.task_root_provider = [&m](const nlohmann::json& github) {
            return m.roots->forTask(github, m.checkouts->asProvider());
        };
    }
    res.checkout_provider = [&m](const engine::CheckoutSpec& spec, const fs::path& dst) {
        return m.checkouts->checkout(spec, dst);
    };
    res.action_cache_dir = cache_dir / "actions";
    if (m.actions_cache) {
        // Jailed jobs reach it only through their proxy, by a name pinned to its port (the jail's
        // own 127.0.0.1 is its loopback, and the proxy refuses the host's addresses otherwise).
        res.actions_cache = m.actions_cache.get();
        res.actions_cache_url = m.actions_cache->baseUrl();
        if (m.executor->isolatesFilesystem()) {
            const std::string name = "actions-cache.nixjail.internal";
            const std::string port = std::to_string(m.actions_cache->port());
            res.network.host_overrides[name] = "127.0.0.1:" + port;
            res.network.service_hosts.push_back(name);
            res.actions_cache_url = "http://" + name + ":" + port + "/";
        }
    }
    // After every job: least recently used cache entries nobody uses go until each cache fits.
    const cache::CacheBudgets budgets{cfg.cache.roots_budget, cfg.cache.workspace_budget,
                                      cfg.cache.git_budget};
    res.after_job = [&m, cache_dir, budgets] {
        std::lock_guard lock(m.janitor_mutex);
        try {
            const auto removed = m.janitor->prune(budgets);
            const size_t n = removed.roots.size() + removed.checkouts.size() + removed.git.size();
            if (n > 0) {
                m.log->info("cache budgets: removed {} roots, {} checkouts, {} git mirrors",
                            removed.roots.size(), removed.checkouts.size(), removed.git.size());
            }
        } catch (const std::exception& e) {
            m.log->warn("trimming the caches in '{}' to their budgets failed: {}",
                        cache_dir.string(), e.what());
        }
    };
    res.work_dir = m.job_dirs->path();
    // Policies and credentials are read once, at start: a mistake stops the daemon here.
    // Beside the runner's own pins (its cache server), which stay as they are.
    res.network.host_overrides.insert(cfg.proxy.host_overrides.begin(),
                                      cfg.proxy.host_overrides.end());
    if (!cfg.proxy.policy.empty())
        res.network.admin_policy = proxy::loadPolicyFile(cfg.proxy.policy, "admin");
    for (size_t i = 0; i < cfg.proxy.credentials.size(); ++i) {
        const auto& c = cfg.proxy.credentials[i];
        res.network.credentials.push_back(network::resolveCredential(
            {c.name, c.env, c.file, c.hosts, c.header, c.dummy,
             cfg.source + ": proxy.credentials[" + std::to_string(i) + "]"}));
    }
    if (!cfg.proxy.extra_ca_file.empty())
        res.network.extra_upstream_ca_file = fs::absolute(cfg.proxy.extra_ca_file);
    res.network.audit_only = cfg.proxy.mode == "audit";
    if (res.network.audit_only)
        m.log->warn("proxy.mode is audit: jobs may reach any host; decisions are only recorded");
    for (const auto& [name, label] : cfg.labels) {
        if (!label.policy.empty())
            res.label_policies.emplace(name, proxy::loadPolicyFile(label.policy, "label " + name));
    }
    res.forge_address = m.runner.address;
    res.log = m.log;
    m.daemon = std::make_unique<Daemon>(m.config, std::move(parts));
    if (m.executor->name() == "systemd" && cfg.runner.capacity > 1) {
        // No pid namespace for a unit before systemd 257, and every step has the same uid.
        m.log->warn(
            "executor systemd with capacity {}: jobs running at the same time share the step uid "
            "and can see and signal each other's processes; set runner.capacity: 1 or use the "
            "namespace executor where concurrent jobs must not see each other",
            cfg.runner.capacity);
    }
    m.log->info(
        "runner '{}' ready: capacity {}, executor {}, database {}{}", m.runner.name,
        cfg.runner.capacity, m.executor->name(), cfg.database.string(),
        m.metrics_server ? fmt::format(", metrics on port {}", m.metrics_server->port()) : "");
}

DaemonRuntime::~DaemonRuntime() = default;

Daemon& DaemonRuntime::daemon() { return *impl_->daemon; }

int DaemonRuntime::metricsPort() const {
    return impl_->metrics_server ? impl_->metrics_server->port() : 0;
}

}  // namespace nixjail::runner::daemon
