// The on-disk memo of package resolutions and closures.
#include "workspace-cache/closure_memo.h"

#include <sys/stat.h>

#include <algorithm>
#include <ctime>

#include <nlohmann/json.hpp>

#include "runner/base/file_io.h"
#include "workspace-cache/content_hash.h"

namespace nixjail::cache {

namespace fs = std::filesystem;

namespace {

// A line per element, so that no two lists share a key.
std::string joinLines(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += i + "\n";
    return out;
}

std::vector<std::string> sortedUnique(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

bool allInStore(const std::vector<std::string>& paths) {
    struct stat st {};
    return std::all_of(paths.begin(), paths.end(),
                       [&](const std::string& p) { return ::lstat(p.c_str(), &st) == 0; });
}

// The entry's JSON, or null when it is missing or unreadable (then it is simply not remembered).
nlohmann::json readEntry(const fs::path& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return nullptr;
    try {
        return nlohmann::json::parse(base::readFile(path));
    } catch (const std::exception&) {
        return nullptr;
    }
}

std::vector<std::string> stringList(const nlohmann::json& j) {
    std::vector<std::string> out;
    for (const auto& s : j) out.push_back(s.get<std::string>());
    return out;
}

}  // namespace

ClosureMemo::ClosureMemo(fs::path dir, size_t max_entries, Clock now)
    : dir_(std::move(dir)),
      max_entries_(max_entries),
      now_(now ? std::move(now) : Clock([] { return static_cast<int64_t>(std::time(nullptr)); })) {}

fs::path ClosureMemo::entryPath(const std::string& kind, const std::string& key) const {
    return dir_ / (kind + "-" + sha256Hex(key) + ".json");
}

std::optional<std::vector<std::string>> ClosureMemo::packages(
    const std::string& identity, const std::vector<std::string>& names,
    std::optional<std::chrono::seconds> max_age) const {
    const auto entry = readEntry(entryPath("packages", identity + "\n\n" + joinLines(names)));
    if (entry.is_null()) return std::nullopt;
    try {
        // The key is a hash: the entry repeats what it answers, so a collision cannot mislead.
        if (entry.at("identity") != identity || stringList(entry.at("names")) != names)
            return std::nullopt;
        const auto age = now_() - entry.at("resolved_at").get<int64_t>();
        if (max_age && (age < 0 || age > max_age->count())) return std::nullopt;
        auto paths = stringList(entry.at("paths"));
        if (paths.size() != names.size() || !allInStore(paths)) return std::nullopt;
        return paths;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

void ClosureMemo::rememberPackages(const std::string& identity, const std::vector<std::string>& names,
                                   const std::vector<std::string>& paths) {
    const nlohmann::json entry = {{"identity", identity},
                                  {"names", names},
                                  {"paths", paths},
                                  {"resolved_at", now_()}};
    write(entryPath("packages", identity + "\n\n" + joinLines(names)), entry.dump());
}

std::optional<ClosureFacts> ClosureMemo::closure(const std::vector<std::string>& roots) const {
    const auto key = sortedUnique(roots);
    const auto entry = readEntry(entryPath("closure", joinLines(key)));
    if (entry.is_null()) return std::nullopt;
    try {
        if (stringList(entry.at("roots")) != key) return std::nullopt;
        ClosureFacts facts{stringList(entry.at("paths")), entry.at("bytes").get<uint64_t>()};
        if (!allInStore(facts.paths)) return std::nullopt;
        return facts;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

void ClosureMemo::rememberClosure(const std::vector<std::string>& roots, const ClosureFacts& facts) {
    const auto key = sortedUnique(roots);
    const nlohmann::json entry = {{"roots", key}, {"paths", facts.paths}, {"bytes", facts.bytes}};
    write(entryPath("closure", joinLines(key)), entry.dump());
}

void ClosureMemo::write(const fs::path& path, const std::string& json) {
    // A memo that cannot be written only costs the next job a Nix call: never a job's failure.
    try {
        fs::create_directories(dir_);
        base::writeFileAtomic(path, json);
        if (size() <= max_entries_) return;
        // The others, oldest first: the entry just written stays.
        std::vector<std::pair<fs::file_time_type, fs::path>> entries;
        for (const auto& e : fs::directory_iterator(dir_))
            if (e.path().extension() == ".json" && e.path() != path)
                entries.emplace_back(e.last_write_time(), e.path());
        std::sort(entries.begin(), entries.end());
        for (size_t i = 0; i + max_entries_ < entries.size() + 1; ++i) {
            std::error_code ec;
            fs::remove(entries[i].second, ec);
        }
    } catch (const std::exception&) {
    }
}

size_t ClosureMemo::size() const {
    std::error_code ec;
    size_t n = 0;
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".json") ++n;
    return n;
}

size_t ClosureMemo::clear() {
    std::error_code ec;
    size_t n = 0;
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".json" && fs::remove(it->path(), ec)) ++n;
    return n;
}

}  // namespace nixjail::cache
