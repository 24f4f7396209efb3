// Kept jobs on disk: their entries, sizes and release.
#include "runner/cli/kept_registry.h"

#include <fcntl.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <random>

#include "executor/executor_factory.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/cli/cache_dirs.h"
#include "runner/cli/keeper_protocol.h"
#include "runner/services/job_dirs.h"

namespace nixjail::runner::cli {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::optional<KeptEntry> readEntry(const fs::path& dir) {
    try {
        const Json j = Json::parse(base::readFile(dir / "kept.json"));
        KeptEntry e;
        e.id = j.at("id").get<std::string>();
        e.job = j.value("job", "");
        e.name = j.value("name", "");
        e.workflow = j.value("workflow", "");
        e.result = j.value("result", "");
        e.step = j.value("step", "");
        e.steps = j.value("steps", std::size_t{0});
        e.job_dir = j.value("job_dir", "");
        e.keeper = j.value("keeper", 0);
        e.created = j.value("created", std::int64_t{0});
        e.entry_dir = dir;
        return e;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::string randomSuffix() {
    std::random_device rd;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < 4; ++i) s.push_back(kHex[rd() % 16]);
    return s;
}

}  // namespace

KeptRegistry KeptRegistry::ofCacheDir(const std::string& cache_dir) {
    return KeptRegistry((cache_dir.empty() ? defaultCacheDir() : fs::path(cache_dir)) / "kept");
}

std::vector<KeptEntry> KeptRegistry::list() const {
    std::vector<KeptEntry> out;
    std::error_code ec;
    for (const auto& d : fs::directory_iterator(root_, ec)) {
        if (auto e = readEntry(d.path())) out.push_back(std::move(*e));
    }
    std::sort(out.begin(), out.end(), [](const KeptEntry& a, const KeptEntry& b) {
        return a.created != b.created ? a.created < b.created : a.id < b.id;
    });
    return out;
}

KeptEntry KeptRegistry::find(const std::string& id) const {
    if (id.find('/') == std::string::npos && id != "." && id != "..") {
        if (auto e = readEntry(root_ / id)) return *e;
    }
    std::string ids;
    for (const auto& e : list()) ids += (ids.empty() ? "" : ", ") + e.id;
    throw base::Error("no kept job '" + id + "' in " + root_.string() +
                      (ids.empty() ? " (there is none; run exec with --keep-failed or --keep)" : " (kept: " + ids + ")"));
}

void KeptRegistry::create(KeptEntry& entry) const {
    fs::create_directories(root_);
    ::chmod(root_.c_str(), 0700);
    for (int attempt = 0;; ++attempt) {
        entry.id = entry.job + "-" + randomSuffix();
        entry.entry_dir = root_ / entry.id;
        if (::mkdir(entry.entry_dir.c_str(), 0700) == 0) break;
        if (errno != EEXIST || attempt > 16) throw base::SysError("creating the kept job's entry '" + entry.entry_dir.string() + "'");
    }
    const Json j{{"id", entry.id},         {"job", entry.job},     {"name", entry.name},
                 {"workflow", entry.workflow}, {"result", entry.result}, {"step", entry.step},
                 {"steps", entry.steps},   {"job_dir", entry.job_dir.string()},
                 {"keeper", entry.keeper}, {"created", entry.created}};
    base::writeFileAtomic(entry.entry_dir / "kept.json", j.dump(2) + "\n", 0600);
}

void KeptRegistry::forget(const KeptEntry& entry) const {
    std::error_code ec;
    fs::remove_all(entry.entry_dir, ec);
}

std::uint64_t allocatedBytes(const fs::path& dir) {
    struct stat top {};
    if (::lstat(dir.c_str(), &top) != 0) return 0;
    std::uint64_t total = static_cast<std::uint64_t>(top.st_blocks) * 512;
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) != 0) continue;
        if (st.st_dev != top.st_dev) {
            it.disable_recursion_pending();  // another filesystem: a mount point
            continue;
        }
        total += static_cast<std::uint64_t>(st.st_blocks) * 512;
    }
    return total;
}

std::string releaseKept(const KeptRegistry& registry, const KeptEntry& entry) {
    if (base::UniqueFd keeper = connectKeeper(entry.socket())) {
        sendKeeperMessage(keeper.get(), Json{{"op", "release"}});
        const KeeperMessage answer = receiveKeeperMessage(keeper.get());
        if (answer.body.contains("error")) {
            throw base::Error("the keeper of '" + entry.id + "' could not release it: " +
                              answer.body["error"].get<std::string>());
        }
        return "released '" + entry.id + "' (its keeper, pid " + std::to_string(entry.keeper) + ", removed the job's jail, network, root and directory)";
    }
    // Nobody listens: the keeper was killed or the machine restarted. Its jail's processes and
    // network went with it; mounts and files may remain.
    auto log = std::make_shared<spdlog::logger>("kept", std::make_shared<spdlog::sinks::null_sink_mt>());
    if (!entry.job_dir.empty() && fs::exists(entry.job_dir) &&
        !services::removeJobDirectory(entry.job_dir, *log)) {
        throw base::Error("the keeper of '" + entry.id + "' is gone and its job directory '" +
                          entry.job_dir.string() + "' could not be removed (something is mounted below it); "
                          "unmount it and run `kept rm` again");
    }
    // The jail's cgroups and staging directory carry the dead keeper's pid: swept with those of
    // any other runner that died.
    const executor::LeftoverSweep swept = executor::sweepLeftovers("namespace", "");
    registry.forget(entry);
    return "removed '" + entry.id + "' (its keeper had gone; removed what it left: the job directory, " + swept.detail + ")";
}

}  // namespace nixjail::runner::cli
