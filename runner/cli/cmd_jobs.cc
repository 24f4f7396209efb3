// `nixjail-runner jobs`: the jobs recorded in the daemon's database, newest first.
#include <fmt/format.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "runner/cli/commands.h"
#include "runner/config/runner_config.h"
#include "runner/store/job_store.h"

namespace nixjail::runner::cli {

namespace {

using Json = nlohmann::json;

struct JobsFlags {
    std::string config, database;
    bool failed = false, json = false;
    size_t limit = 20;
};

std::string localTime(int64_t ms) {
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    ::localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

template <class T>
Json orNull(const std::optional<T>& v) {
    return v ? Json(*v) : Json(nullptr);
}

Json jobJson(store::JobStore& db, const store::JobRow& j) {
    Json steps = Json::array();
    for (const auto& s : db.steps(j.id)) {
        steps.push_back({{"index", s.index},
                         {"name", s.name},
                         {"status", s.status},
                         {"exit_code", orNull(s.exit_code)},
                         {"duration_ms", orNull(s.duration_ms)},
                         {"peak_memory_bytes", orNull(s.peak_memory_bytes)},
                         {"cpu_seconds", orNull(s.cpu_seconds)},
                         {"oom", s.oom},
                         {"timed_out", s.timed_out}});
    }
    return {{"id", j.id},
            {"forge_task_id", j.start.forge_task_id},
            {"repo", j.start.repo},
            {"workflow", j.start.workflow},
            {"job", j.start.job},
            {"matrix", j.start.matrix},
            {"labels", j.start.labels},
            {"status", j.status},
            {"started_at_ms", j.start.started_at_ms},
            {"ended_at_ms", orNull(j.ended_at_ms)},
            {"phase_ms", j.phase_ms},
            {"workspace_cache_hit", orNull(j.workspace_cache_hit)},
            {"root_cache_hit", orNull(j.root_cache_hit)},
            {"closure_cache_hit", orNull(j.closure_cache_hit)},
            {"closure_path_count", orNull(j.closure_path_count)},
            {"closure_size_bytes", orNull(j.closure_size_bytes)},
            {"peak_memory_bytes", orNull(j.peak_memory_bytes)},
            {"cpu_seconds", orNull(j.cpu_seconds)},
            {"actions_cache", j.actions_cache
                                  ? Json{{"hits", j.actions_cache->hits},
                                         {"misses", j.actions_cache->misses},
                                         {"bytes_saved", j.actions_cache->bytes_saved},
                                         {"bytes_restored", j.actions_cache->bytes_restored}}
                                  : Json(nullptr)},
            {"exit_reason", j.exit_reason},
            {"steps", steps}};
}

int listJobs(const JobsFlags& f) {
    auto cfg = config::loadConfigFile(f.config);
    store::JobStore db(f.database.empty() ? cfg.database : std::filesystem::path(f.database));
    auto jobs = db.recentJobs(f.limit, f.failed);
    if (f.json) {
        Json out = Json::array();
        for (const auto& j : jobs) out.push_back(jobJson(db, j));
        fmt::print("{}\n", out.dump(2));
        return 0;
    }
    if (jobs.empty()) {
        fmt::print(
            "no {}jobs recorded in {}\n", f.failed ? "failed " : "",
            (f.database.empty() ? cfg.database : std::filesystem::path(f.database)).string());
        return 0;
    }
    fmt::print("{:<6} {:<8} {:<10} {:<19} {:>9}  {}\n", "ID", "TASK", "STATUS", "STARTED",
               "DURATION", "REPOSITORY / WORKFLOW / JOB  REASON");
    for (const auto& j : jobs) {
        std::string duration =
            j.ended_at_ms
                ? fmt::format("{:.1f}s", double(*j.ended_at_ms - j.start.started_at_ms) / 1000)
                : "-";
        fmt::print("{:<6} {:<8} {:<10} {:<19} {:>9}  {} / {} / {}{}\n", j.id, j.start.forge_task_id,
                   j.status, localTime(j.start.started_at_ms), duration, j.start.repo,
                   j.start.workflow, j.start.job,
                   j.exit_reason.empty()
                       ? ""
                       : "  (" + j.exit_reason.substr(0, j.exit_reason.find('\n')) + ")");
    }
    return 0;
}

}  // namespace

void addJobsCommand(CLI::App& app, int& exit_code) {
    auto f = std::make_shared<JobsFlags>();
    auto* cmd = app.add_subcommand("jobs", "Show the jobs the daemon ran, newest first");
    cmd->add_option("-c,--config", f->config, "the daemon's configuration file (for its database)");
    cmd->add_option("--database", f->database,
                    "the job database (default: `database` from the configuration)");
    cmd->add_flag("--failed", f->failed, "only failed jobs");
    cmd->add_flag("--json", f->json, "JSON, with phases, cache results and steps");
    cmd->add_option("-n,--limit", f->limit, "at most this many jobs (default 20)");
    cmd->callback([f, &exit_code] {
        try {
            exit_code = listJobs(*f);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "nixjail-runner jobs: %s\n", e.what());
            exit_code = 1;
        }
    });
}

}  // namespace nixjail::runner::cli
