// EntryIndex: the index file of an entry is written atomically after its archive is in place, and
// deleted before it, so a crash never publishes half an entry; the next start removes orphans.
#include "runner/cache_server/entry_index.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <system_error>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/cache_server/cache_refused.h"

namespace nixjail::runner::cache_server {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

std::int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Json toJson(const CacheEntry& e) {
    return Json{{"id", e.id},
                {"scope", e.scope},
                {"key", e.key},
                {"version", e.version},
                {"size", e.size},
                {"created_ms", e.created_ms},
                {"last_used_ms", e.last_used_ms}};
}

CacheEntry fromJson(const Json& j) {
    return CacheEntry{
        j.at("id").get<std::uint64_t>(),         j.at("scope").get<std::string>(),
        j.at("key").get<std::string>(),          j.at("version").get<std::string>(),
        j.at("size").get<std::uint64_t>(),       j.at("created_ms").get<std::int64_t>(),
        j.at("last_used_ms").get<std::int64_t>()};
}

std::uint64_t idOf(const fs::path& p) {
    try {
        return std::stoull(p.stem().string());
    } catch (const std::exception&) {
        return 0;
    }
}

}  // namespace

EntryIndex::EntryIndex(fs::path dir) : dir_(std::move(dir)) {
    std::error_code ec;
    std::vector<fs::path> orphans;
    for (const auto& de : fs::directory_iterator(dir_)) {
        const auto& p = de.path();
        next_id_on_disk_ = std::max(next_id_on_disk_, idOf(p) + 1);
        if (p.extension() == ".archive") {
            if (!fs::exists(indexPath(idOf(p)))) orphans.push_back(p);  // crashed mid-commit
            continue;
        }
        if (p.extension() != ".json") continue;
        try {
            auto e = fromJson(Json::parse(base::readFile(p)));
            auto size = fs::file_size(archivePath(e.id), ec);
            if (ec || size != e.size) {
                orphans.push_back(p);
                continue;
            }
            bytes_ += e.size;
            last_tick_ = std::max({last_tick_, e.last_used_ms, e.created_ms});
            entries_[e.id] = std::move(e);
        } catch (const std::exception&) {
            orphans.push_back(p);  // unreadable index file: the entry is dropped, not guessed at
        }
    }
    for (const auto& p : orphans) {
        fs::remove(p, ec);
        fs::remove(archivePath(idOf(p)), ec);
    }
}

fs::path EntryIndex::archivePath(std::uint64_t id) const {
    return dir_ / (std::to_string(id) + ".archive");
}

fs::path EntryIndex::indexPath(std::uint64_t id) const {
    return dir_ / (std::to_string(id) + ".json");
}

void EntryIndex::save(const CacheEntry& e) const {
    base::writeFileAtomic(indexPath(e.id), toJson(e).dump() + "\n");
}

std::int64_t EntryIndex::tick() {
    last_tick_ = std::max(nowMs(), last_tick_ + 1);
    return last_tick_;
}

std::vector<CacheEntry> EntryIndex::all() const {
    std::vector<CacheEntry> all;
    all.reserve(entries_.size());
    for (const auto& [id, e] : entries_) all.push_back(e);
    return all;
}

std::optional<CacheEntry> EntryIndex::find(std::uint64_t id) const {
    auto it = entries_.find(id);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
}

bool EntryIndex::holds(const std::string& scope, const std::string& key,
                       const std::string& version) const {
    return std::any_of(entries_.begin(), entries_.end(), [&](const auto& kv) {
        const auto& e = kv.second;
        return e.scope == scope && e.key == key && e.version == version;
    });
}

CacheEntry EntryIndex::add(std::uint64_t id, std::string scope, std::string key,
                           std::string version, std::uint64_t size) {
    const auto now = tick();
    CacheEntry e{id, std::move(scope), std::move(key), std::move(version), size, now, now};
    try {
        save(e);
    } catch (const base::Error& err) {
        std::error_code ec;
        fs::remove(archivePath(id), ec);
        throw CacheRefused(CacheRefusal::kStorage, err.what());
    }
    bytes_ += size;
    entries_[id] = e;
    return e;
}

CacheEntry EntryIndex::touch(std::uint64_t id) {
    auto& e = entries_.at(id);
    e.last_used_ms = tick();
    try {
        save(e);
    } catch (const base::Error&) {
        // Only the LRU order suffers (the entry may be evicted a little early); the use stands.
    }
    return e;
}

void EntryIndex::remove(std::uint64_t id) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    std::error_code ec;
    // The index file goes first: without it the archive is an orphan the next start removes.
    fs::remove(indexPath(id), ec);
    fs::remove(archivePath(id), ec);
    bytes_ -= it->second.size;
    entries_.erase(it);
}

std::optional<std::uint64_t> EntryIndex::leastRecentlyUsed(std::uint64_t except) const {
    const CacheEntry* oldest = nullptr;
    for (const auto& [id, e] : entries_) {
        if (id == except) continue;
        if (!oldest || e.last_used_ms < oldest->last_used_ms ||
            (e.last_used_ms == oldest->last_used_ms && e.id < oldest->id)) {
            oldest = &e;
        }
    }
    if (!oldest) return std::nullopt;
    return oldest->id;
}

}  // namespace nixjail::runner::cache_server
