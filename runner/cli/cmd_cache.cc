// `nixjail-runner cache list|prune|warm`: look at, trim and fill the runner's caches.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "runner/base/error.h"
#include "runner/cli/cache_dirs.h"
#include "runner/cli/commands.h"
#include "runner/config/runner_config.h"
#include "runner/engine/nix_root_provider.h"
#include "runner/engine/nixpkgs_locator.h"
#include "workspace-cache/cache_set.h"
#include "workspace-cache/closure_memo.h"

namespace nixjail::runner::cli {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct CacheFlags {
    std::string config;  // the daemon's configuration: cache.dir, cache.storage, nix.nixpkgs
    std::string dir;
    std::string storage;
    bool json = false;
    bool closures = false;
    std::string roots_budget, git_budget, checkouts_budget;
    std::string packages, nixpkgs;
};

// What the command works on: flags first, then the daemon configuration given with --config.
struct CacheTarget {
    fs::path dir;
    std::optional<cache::StorageKind> storage;
    std::string nixpkgs;
};

CacheTarget targetOf(const CacheFlags& f) {
    CacheTarget t;
    std::string storage = "auto", where = "--storage";
    if (!f.config.empty()) {
        const config::RunnerConfig cfg = config::loadConfigFile(f.config);
        t.dir = cfg.cache.dir;
        storage = cfg.cache.storage;
        where = cfg.source + ": cache.storage";
        t.nixpkgs = cfg.nix.nixpkgs;
    }
    if (!f.dir.empty()) t.dir = f.dir;
    if (t.dir.empty()) t.dir = defaultCacheDir();
    if (!f.storage.empty()) storage = f.storage, where = "--storage";
    t.storage = cache::parseStorageChoice(storage, where);
    if (!f.nixpkgs.empty()) t.nixpkgs = f.nixpkgs;
    return t;
}

cache::CacheSet openCaches(const CacheFlags& f) {
    const CacheTarget t = targetOf(f);
    return cache::CacheSet(t.dir, t.storage);
}

std::string humanSize(std::uint64_t b) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(b);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    return u == 0 ? fmt::format("{} B", b) : fmt::format("{:.1f} {}", v, units[u]);
}

int listCaches(const CacheFlags& f) {
    cache::CacheSet c = openCaches(f);
    Json rows = Json::array();
    auto add = [&](const char* kind, const std::string& name, std::uint64_t size,
                   std::chrono::system_clock::time_point used, bool inUse) {
        rows.push_back({{"cache", kind},
                        {"name", name},
                        {"size_bytes", size},
                        {"last_used", fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(used)))},
                        {"in_use", inUse}});
    };
    for (const auto& e : c.roots().list()) add("root", e.key, e.size_bytes, e.last_used, e.in_use);
    for (const auto& e : c.checkouts().list()) add("checkout", e.key, e.size_bytes, e.last_used, e.in_use);
    for (const auto& m : c.mirrors().list()) add("git", m.url, m.size_bytes, m.last_used, false);
    if (f.json) {
        fmt::print("{}\n", Json{{"dir", c.dir().string()}, {"storage", cache::toString(c.storage().kind())}, {"entries", rows}}.dump(2));
        return 0;
    }
    fmt::print("cache directory {} ({} storage)\n", c.dir().string(), cache::toString(c.storage().kind()));
    fmt::print("{:<9} {:<66} {:>10}  {:<20}  {}\n", "CACHE", "KEY / URL", "SIZE", "LAST USED", "IN USE");
    for (const auto& r : rows) {
        fmt::print("{:<9} {:<66} {:>10}  {:<20}  {}\n", r["cache"].get<std::string>(), r["name"].get<std::string>(),
                   humanSize(r["size_bytes"]), r["last_used"].get<std::string>(), r["in_use"].get<bool>() ? "yes" : "");
    }
    if (rows.empty()) fmt::print("(empty)\n");
    return 0;
}

int pruneCaches(const CacheFlags& f) {
    cache::CacheSet c = openCaches(f);
    auto report = [](const char* kind, const std::vector<std::string>& removed) {
        for (const auto& r : removed) fmt::print("removed {} {}\n", kind, r.empty() ? "(unknown)" : r);
    };
    // A budget of 0 empties a cache of everything not in use; an absent one leaves it alone.
    if (!f.roots_budget.empty()) report("root", c.roots().prune(parseSize(f.roots_budget, "--roots")));
    if (!f.checkouts_budget.empty()) report("checkout", c.checkouts().prune(parseSize(f.checkouts_budget, "--checkouts")));
    if (!f.git_budget.empty()) report("git mirror", c.mirrors().prune(parseSize(f.git_budget, "--git")));
    if (f.closures) {
        const size_t n = cache::ClosureMemo(c.dir() / "closures").clear();
        fmt::print("forgot {} remembered package and closure answers\n", n);
    }
    if (f.roots_budget.empty() && f.checkouts_budget.empty() && f.git_budget.empty() && !f.closures) {
        throw base::Error(
            "say which caches to prune and to what size: --roots SIZE, --checkouts SIZE, --git SIZE "
            "(or --closures to forget remembered package answers)");
    }
    return 0;
}

int warmRoot(const CacheFlags& f) {
    const CacheTarget t = targetOf(f);
    // Found as exec finds it, so that the roots warmed here are the ones its jobs use.
    auto tools = nixToolsFromEnvironment();
    const auto nixpkgs = engine::locateNixpkgs(t.nixpkgs, f.nixpkgs.empty() ? "nix.nixpkgs" : "--nixpkgs",
                                               fs::current_path(), engine::nixCommand(tools),
                                               engine::nixPathOf(tools));
    engine::NixRootConfig config{nixpkgs.expression, t.dir, std::move(tools)};
    config.storage = t.storage;
    engine::NixRootProvider provider(std::move(config));
    auto info = provider.warm(cache::parsePackageList(f.packages));
    fmt::print("root {} for {} store paths: {}\n", info.key, info.paths, info.hit ? "already cached" : "built");
    return 0;
}

}  // namespace

void addCacheCommand(CLI::App& app, int& exit_code) {
    auto flags = std::make_shared<CacheFlags>();
    auto* cmd = app.add_subcommand("cache", "Look at, trim and fill the runner's caches (roots, git, checkouts)");
    cmd->require_subcommand(1);
    cmd->add_option(
        "-c,--config", flags->config,
        "the daemon's configuration file: its cache.dir, cache.storage and nix.nixpkgs apply "
        "(the flags below override them)");
    cmd->add_option("--cache-dir", flags->dir, "the cache directory (default /var/cache/nixjail-runner as root)");
    cmd->add_option(
        "--storage", flags->storage,
        "the storage backend: auto (detected), btrfs, reflink or copy; a forced one that cannot "
        "work in the cache directory is an error");
    auto run = [flags, &exit_code](int (*fn)(const CacheFlags&)) {
        return [flags, &exit_code, fn] {
            try {
                exit_code = fn(*flags);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "nixjail-runner cache: %s\n", e.what());
                exit_code = 1;
            }
        };
    };
    auto* list = cmd->add_subcommand("list", "Every cached root, checkout and git mirror with size and last use");
    list->add_flag("--json", flags->json, "print JSON");
    list->callback(run(listCaches));
    auto* prune = cmd->add_subcommand("prune", "Remove least recently used entries until each cache fits its budget");
    prune->add_option("--roots", flags->roots_budget, "budget for job roots, e.g. 20G (0: all not in use)");
    prune->add_option("--checkouts", flags->checkouts_budget, "budget for checkouts");
    prune->add_option("--git", flags->git_budget, "budget for git mirrors");
    prune->add_flag("--closures", flags->closures,
                    "forget what Nix answered about package sets (the next job asks Nix again)");
    prune->callback(run(pruneCaches));
    auto* warm = cmd->add_subcommand("warm", "Build and cache the root for a package list before any job needs it");
    warm->add_option("packages", flags->packages, "the packages, e.g. \"bash coreutils git\"")->required();
    warm->add_option(
        "--nixpkgs", flags->nixpkgs,
        "the nixpkgs the packages resolve against (default: nix.nixpkgs of --config, else <nixpkgs> "
        "from NIX_PATH, else the flake registry's)");
    warm->callback(run(warmRoot));
}

}  // namespace nixjail::runner::cli
