// `nixjail-runner stats`: job counts by status, phase percentiles and cache hit rates.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "runner/cli/commands.h"
#include "runner/config/runner_config.h"
#include "runner/store/job_store.h"

namespace nixjail::runner::cli {

namespace {

using Json = nlohmann::json;

struct StatsFlags {
    std::string config, database;
    bool json = false;
};

Json cacheJson(const store::CacheStats& c) {
    return {{"hits", c.hits}, {"misses", c.misses}, {"hit_rate", c.hitRate()}};
}

int showStats(const StatsFlags& f) {
    auto cfg = config::loadConfigFile(f.config);
    store::JobStore db(f.database.empty() ? cfg.database : std::filesystem::path(f.database));
    const auto s = db.stats();
    if (f.json) {
        Json phases = Json::array();
        for (const auto& p : s.phases) {
            phases.push_back({{"phase", p.phase},
                              {"count", p.count},
                              {"p50_ms", p.p50_ms},
                              {"p95_ms", p.p95_ms}});
        }
        Json out = {
            {"jobs_by_status", s.jobs_by_status},
            {"phases", phases},
            {"cache", {{"workspace", cacheJson(s.workspace)}, {"root", cacheJson(s.root)}}}};
        fmt::print("{}\n", out.dump(2));
        return 0;
    }
    int64_t total = 0;
    for (const auto& [_, n] : s.jobs_by_status) total += n;
    fmt::print("jobs: {}", total);
    for (const auto& [status, n] : s.jobs_by_status) fmt::print(", {} {}", n, status);
    fmt::print("\n\n{:<20} {:>6} {:>9} {:>9}\n", "PHASE", "JOBS", "P50", "P95");
    for (const auto& p : s.phases) {
        fmt::print("{:<20} {:>6} {:>7}ms {:>7}ms\n", p.phase, p.count, p.p50_ms, p.p95_ms);
    }
    auto rate = [](const store::CacheStats& c) {
        return c.hits + c.misses
                   ? fmt::format("{:.0f}% ({} of {})", 100 * c.hitRate(), c.hits, c.hits + c.misses)
                   : std::string("-");
    };
    fmt::print("\ncache hit rate: workspace {}, root {}\n", rate(s.workspace), rate(s.root));
    return 0;
}

}  // namespace

void addStatsCommand(CLI::App& app, int& exit_code) {
    auto f = std::make_shared<StatsFlags>();
    auto* cmd =
        app.add_subcommand("stats", "Show job counts, phase percentiles and cache hit rates");
    cmd->add_option("-c,--config", f->config, "the daemon's configuration file (for its database)");
    cmd->add_option("--database", f->database,
                    "the job database (default: `database` from the configuration)");
    cmd->add_flag("--json", f->json, "JSON");
    cmd->callback([f, &exit_code] {
        try {
            exit_code = showStats(*f);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "nixjail-runner stats: %s\n", e.what());
            exit_code = 1;
        }
    });
}

}  // namespace nixjail::runner::cli
