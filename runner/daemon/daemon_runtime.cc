// Building the daemon's parts from the configuration, and the start-up sweep.
#include "runner/daemon/daemon_runtime.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cctype>

#include "executor/executor_factory.h"
#include "runner/base/error.h"
#include "runner/daemon/job_recorder.h"
#include "runner/daemon/metrics_server.h"
#include "runner/forge/forgejo_client.h"
#include "runner/services/runner_services.h"

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
    const auto swept = executor::sweepLeftovers(executor_name, instance);
    std::string detail = swept.detail;
    if (swept.failed) {
        log.warn("start-up sweep of the {} executor's leftovers failed, ignoring: {}",
                 executor_name, swept.detail);
    } else if (swept.removed > 0) {
        log.info("start-up sweep removed {}", swept.detail);
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

std::shared_ptr<spdlog::logger> makeDaemonLogger(const config::RunnerConfig& config,
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
    config::RunnerConfig config;
    std::shared_ptr<spdlog::logger> log;
    forge::RunnerFile runner;
    std::unique_ptr<forge::ForgejoClient> report_client, fetch_client;
    std::unique_ptr<store::JobStore> store;
    Metrics metrics;
    std::unique_ptr<services::RunnerServices> services;
    std::unique_ptr<MetricsServer> metrics_server;
    std::unique_ptr<Daemon> daemon;
};

DaemonRuntime::DaemonRuntime(config::RunnerConfig config, const fs::path& default_cache_dir,
                             cache::NixTools nix_tools, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<Impl>()) {
    auto& m = *impl_;
    m.config = std::move(config);
    m.log = std::move(log);
    const config::RunnerConfig& cfg = m.config;
    m.runner = forge::readRunnerFile(cfg.runner.file);
    m.report_client = std::make_unique<forge::ForgejoClient>(forge::ForgeEndpoint{
        m.runner.address, m.runner.uuid, m.runner.token, std::chrono::seconds(30)});
    m.fetch_client = std::make_unique<forge::ForgejoClient>(forge::ForgeEndpoint{
        m.runner.address, m.runner.uuid, m.runner.token, cfg.runner.fetch_timeout});
    m.store = std::make_unique<store::JobStore>(cfg.database);
    const std::string instance = systemdInstance(m.runner.uuid);  // names its systemd units
    // A forge cancel must end a job within 2 s: SIGTERM, then SIGKILL after 1 s.
    m.services = std::make_unique<services::RunnerServices>(
        cfg, services::ServicesContext{.role = services::ServicesContext::Role::kDaemon,
                                       .default_cache_dir = default_cache_dir,
                                       .nix_tools = std::move(nix_tools),
                                       .log = m.log,
                                       .cancel_grace = std::chrono::milliseconds(1000),
                                       .instance = instance,
                                       .runner_uuid = m.runner.uuid});
    executor::Executor& executor = m.services->executor();
    sweepAtStartup(executor.name(), instance, m.services->sweptJobDirs(), *m.store,
                   *m.report_client, *m.log);
    if (!cfg.metrics.address.empty())
        m.metrics_server = std::make_unique<MetricsServer>(cfg.metrics.address, m.metrics);

    DaemonParts parts;
    parts.fetch_client = m.fetch_client.get();
    parts.report_client = m.report_client.get();
    parts.runner = m.runner;
    JobResources& res = parts.resources;
    res.config = &m.config;
    res.client = m.report_client.get();
    res.store = m.store.get();
    res.metrics = &m.metrics;
    res.job_defaults = m.services->jobDefaults();
    res.job_defaults.action_cache_dir = m.services->cacheDir() / "actions";
    res.task_root_provider = [&m](const nlohmann::json& github) {
        return m.services->rootsForTask(github);
    };
    res.label_policies = m.services->labelPolicies();
    res.actions_cache = m.services->actionsCache();
    res.actions_cache_url = m.services->actionsCacheUrl();
    // After every job: least recently used cache entries nobody uses go until each cache fits.
    res.after_job = [&m] { m.services->trimCaches(); };
    res.forge_address = m.runner.address;
    res.log = m.log;
    m.daemon = std::make_unique<Daemon>(m.config, std::move(parts));
    if (executor.name() == "systemd" && cfg.runner.capacity > 1) {
        // No pid namespace for a unit before systemd 257, and every step has the same uid.
        m.log->warn(
            "executor systemd with capacity {}: jobs running at the same time share the step uid "
            "and can see and signal each other's processes; set runner.capacity: 1 or use the "
            "namespace executor where concurrent jobs must not see each other",
            cfg.runner.capacity);
    }
    m.log->info(
        "runner '{}' ready: capacity {}, executor {}, database {}{}", m.runner.name,
        cfg.runner.capacity, executor.name(), cfg.database.string(),
        m.metrics_server ? fmt::format(", metrics on port {}", m.metrics_server->port()) : "");
}

DaemonRuntime::~DaemonRuntime() = default;

Daemon& DaemonRuntime::daemon() { return *impl_->daemon; }

}  // namespace nixjail::runner::daemon
