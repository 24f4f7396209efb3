// `nixjail-runner kept [list]` and `kept rm ID...|--all`: the jobs exec kept, and their release.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "runner/base/error.h"
#include "runner/cli/cache_dirs.h"
#include "runner/cli/commands.h"
#include "runner/cli/keeper_protocol.h"
#include "runner/cli/kept_registry.h"

namespace nixjail::runner::cli {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct KeptFlags {
    std::string cache_dir;
    bool json = false;
    std::vector<std::string> ids;
    bool all = false;
};

std::string age(std::int64_t created) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    const auto s = std::max<std::int64_t>(0, now - created);
    if (s < 120) return std::to_string(s) + "s";
    if (s < 7200) return std::to_string(s / 60) + "m";
    if (s < 172800) return std::to_string(s / 3600) + "h";
    return std::to_string(s / 86400) + "d";
}

void list(const KeptFlags& f) {
    const KeptRegistry registry = KeptRegistry::ofCacheDir(f.cache_dir);
    Json out = Json::array();
    for (const auto& e : registry.list()) {
        const bool alive = static_cast<bool>(connectKeeper(e.socket()));
        out.push_back(Json{{"id", e.id},
                           {"job", e.name},
                           {"workflow", e.workflow},
                           {"result", e.result},
                           {"step", e.step},
                           {"age_seconds", std::chrono::duration_cast<std::chrono::seconds>(
                                               std::chrono::system_clock::now().time_since_epoch()).count() - e.created},
                           {"bytes", allocatedBytes(e.job_dir)},
                           {"job_dir", e.job_dir.string()},
                           {"keeper", alive ? Json(e.keeper) : Json(nullptr)},
                           {"age", age(e.created)}});
    }
    if (f.json) {
        std::printf("%s\n", out.dump(2).c_str());
        return;
    }
    if (out.empty()) {
        std::printf("No kept jobs in %s.\n", registry.root().c_str());
        return;
    }
    std::printf("%-24s %-20s %-8s %-24s %6s %9s  %s\n", "ID", "JOB", "RESULT", "STEP", "AGE", "SIZE", "KEEPER");
    for (const auto& j : out) {
        std::printf("%-24s %-20s %-8s %-24s %6s %6llu MiB  %s\n", j["id"].get<std::string>().c_str(),
                    j["job"].get<std::string>().c_str(), j["result"].get<std::string>().c_str(),
                    j["step"].get<std::string>().substr(0, 24).c_str(), j["age"].get<std::string>().c_str(),
                    static_cast<unsigned long long>((j["bytes"].get<std::uint64_t>() + (1 << 20) - 1) >> 20),
                    j["keeper"].is_null() ? "gone (kept rm removes what is left)"
                                          : ("pid " + std::to_string(j["keeper"].get<int>())).c_str());
    }
}

int remove(const KeptFlags& f) {
    const KeptRegistry registry = KeptRegistry::ofCacheDir(f.cache_dir);
    std::vector<KeptEntry> entries;
    if (f.all) {
        entries = registry.list();
    } else {
        if (f.ids.empty()) throw base::Error("name the kept jobs to remove, or give --all");
        for (const auto& id : f.ids) entries.push_back(registry.find(id));
    }
    int failed = 0;
    for (const auto& e : entries) {
        try {
            std::printf("%s\n", releaseKept(registry, e).c_str());
        } catch (const base::Error& err) {
            std::fprintf(stderr, "nixjail-runner kept rm: %s\n", err.what());
            ++failed;
        }
    }
    return failed == 0 ? 0 : 1;
}

}  // namespace

void addKeptCommand(CLI::App& app, int& exit_code) {
    auto flags = std::make_shared<KeptFlags>();
    auto* cmd = app.add_subcommand("kept", "The jobs exec kept (--keep-failed, --keep): list them, remove them");
    cmd->add_option("--cache-dir", flags->cache_dir, "the cache directory exec used (default as exec's)");
    auto* ls = cmd->add_subcommand("list", "Every kept job with its result, step, age, size and keeper (the default)");
    ls->add_flag("--json", flags->json, "print JSON");
    ls->fallthrough();
    auto* rm = cmd->add_subcommand("rm", "Release kept jobs: their jail, network, root and directory");
    rm->add_option("ids", flags->ids, "the kept jobs");
    rm->add_flag("--all", flags->all, "every kept job");
    rm->fallthrough();
    cmd->callback([cmd, rm, flags, &exit_code] {
        try {
            if (rm->parsed()) {
                exit_code = remove(*flags);
            } else {
                list(*flags);
                exit_code = 0;
            }
        } catch (const base::Error& e) {
            std::fprintf(stderr, "nixjail-runner kept: %s\n", e.what());
            exit_code = 1;
        }
        (void)cmd;
    });
}

}  // namespace nixjail::runner::cli
