// CacheStore: entries are `entries/<id>.archive` plus `entries/<id>.json` (the index, one small
// file per entry written atomically after the archive is in place, so a crash never publishes a
// half entry); uploads in progress are `uploads/<id>.part` and are deleted when the store opens.
#include "runner/cache_server/cache_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <system_error>

#include "runner/base/error.h"
#include "runner/base/file_io.h"

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

CacheStore::CacheStore(fs::path dir, std::uint64_t budget_bytes,
                       std::chrono::steady_clock::duration upload_idle_limit)
    : dir_(std::move(dir)), budget_(budget_bytes), upload_idle_limit_(upload_idle_limit) {
    std::error_code ec;
    fs::create_directories(dir_ / "entries", ec);
    if (!ec) fs::create_directories(dir_ / "uploads", ec);
    if (ec) {
        throw base::Error("cannot create the actions cache directory '" + dir_.string() +
                          "': " + ec.message() + "; choose another with --cache-server-dir");
    }
    // Half-done uploads of an earlier run can never be committed: their clients are gone.
    for (const auto& de : fs::directory_iterator(dir_ / "uploads")) {
        fs::remove(de.path(), ec);
        next_id_ = std::max(next_id_, idOf(de.path()) + 1);
    }
    loadIndex();
}

CacheStore::~CacheStore() {
    std::error_code ec;
    for (const auto& [id, u] : uploads_) fs::remove(uploadPath(id), ec);
}

fs::path CacheStore::entryPath(std::uint64_t id, const char* ext) const {
    return dir_ / "entries" / (std::to_string(id) + ext);
}

fs::path CacheStore::uploadPath(std::uint64_t id) const {
    return dir_ / "uploads" / (std::to_string(id) + ".part");
}

void CacheStore::loadIndex() {
    std::error_code ec;
    std::vector<fs::path> orphans;
    for (const auto& de : fs::directory_iterator(dir_ / "entries")) {
        const auto& p = de.path();
        next_id_ = std::max(next_id_, idOf(p) + 1);
        if (p.extension() == ".archive") {
            if (!fs::exists(entryPath(idOf(p), ".json")))
                orphans.push_back(p);  // crashed mid-commit
            continue;
        }
        if (p.extension() != ".json") continue;
        try {
            auto e = fromJson(Json::parse(base::readFile(p)));
            auto size = fs::file_size(entryPath(e.id, ".archive"), ec);
            if (ec || size != e.size) {
                orphans.push_back(p);
                continue;
            }
            stored_bytes_ += e.size;
            last_tick_ = std::max({last_tick_, e.last_used_ms, e.created_ms});
            entries_[e.id] = std::move(e);
        } catch (const std::exception&) {
            orphans.push_back(p);  // unreadable index file: the entry is dropped, not guessed at
        }
    }
    for (const auto& p : orphans) {
        fs::remove(p, ec);
        fs::remove(entryPath(idOf(p), ".archive"), ec);
    }
}

void CacheStore::saveEntry(const CacheEntry& e) {
    base::writeFileAtomic(entryPath(e.id, ".json"), toJson(e).dump() + "\n");
}

std::optional<CacheEntry> CacheStore::lookup(const std::vector<std::string>& scopes,
                                             const std::vector<std::string>& keys,
                                             const std::string& version) {
    std::lock_guard lock(mu_);
    std::vector<CacheEntry> all;
    all.reserve(entries_.size());
    for (const auto& [id, e] : entries_) all.push_back(e);
    std::optional<CacheEntry> hit;
    for (const auto& scope : scopes) {
        if ((hit = matchEntry(all, scope, keys, version))) break;
    }
    if (!hit) {
        ++counters_.misses;
        return std::nullopt;
    }
    ++counters_.hits;
    auto& stored = entries_.at(hit->id);
    stored.last_used_ms = tickLocked();
    try {
        saveEntry(stored);
    } catch (const base::Error&) {
        // Only the LRU order suffers (the entry may be evicted a little early); the hit stands.
    }
    return stored;
}

std::uint64_t CacheStore::reserve(const std::string& scope, const std::string& key,
                                  const std::string& version, std::uint64_t declared_size) {
    if (key.empty() || version.empty())
        throw CacheRefused(CacheRefusal::kBadRequest, "key and version are required");
    if (declared_size > budget_) {
        throw CacheRefused(CacheRefusal::kTooLarge, "cache entry '" + key + "' of " +
                                                        std::to_string(declared_size) +
                                                        " bytes exceeds the cache budget of " +
                                                        std::to_string(budget_) + " bytes");
    }
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : entries_) {
        if (e.scope == scope && e.key == key && e.version == version) {
            throw CacheRefused(CacheRefusal::kConflict, "cache entry '" + key + "' already exists");
        }
    }
    const auto now = std::chrono::steady_clock::now();
    for (auto it = uploads_.begin(); it != uploads_.end(); ++it) {
        const auto& u = it->second;
        if (u.scope != scope || u.key != key || u.version != version) continue;
        if (now - u.last_activity < upload_idle_limit_) {
            throw CacheRefused(CacheRefusal::kConflict,
                               "cache entry '" + key + "' is being uploaded by another job");
        }
        // Its client went away without committing (a killed job): the key is free again.
        dropUploadLocked(it);
        break;
    }
    const std::uint64_t id = next_id_++;
    base::UniqueFd fd(::open(uploadPath(id).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd) {
        throw CacheRefused(CacheRefusal::kStorage, "cannot create '" + uploadPath(id).string() +
                                                       "': " + std::strerror(errno));
    }
    uploads_.emplace(id, Upload{scope, key, version, declared_size, std::move(fd), {}, now});
    return id;
}

void CacheStore::writeChunk(const std::string& scope, std::uint64_t id, std::uint64_t offset,
                            std::string_view data) {
    std::lock_guard lock(mu_);
    auto it = uploads_.find(id);
    if (it == uploads_.end() || it->second.scope != scope) {
        throw CacheRefused(CacheRefusal::kNotFound,
                           "no upload in progress with cache id " + std::to_string(id));
    }
    auto& u = it->second;
    const std::uint64_t end = offset + data.size();
    const std::uint64_t limit = u.declared_size ? u.declared_size : budget_;
    if (end > limit || end < offset) {
        throw CacheRefused(CacheRefusal::kTooLarge,
                           "chunk ending at byte " + std::to_string(end) + " of '" + u.key +
                               "' is beyond its size limit of " + std::to_string(limit));
    }
    // The budget is a hard limit on disk use: an upload's bytes count while it is in progress.
    if (end > u.high) makeRoomLocked(end - u.high, id);
    for (std::size_t done = 0; done < data.size();) {
        ssize_t n = ::pwrite(u.fd.get(), data.data() + done, data.size() - done,
                             static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            throw CacheRefused(CacheRefusal::kStorage,
                               "cannot write to '" + uploadPath(id).string() +
                                   "': " + std::strerror(n < 0 ? errno : ENOSPC));
        }
        done += static_cast<std::size_t>(n);
    }
    u.last_activity = std::chrono::steady_clock::now();
    if (end > u.high) {
        uploading_bytes_ += end - u.high;
        u.high = end;
    }
    if (data.empty()) return;
    // Merge [offset, end) into the set of uploaded ranges.
    std::uint64_t start = offset, stop = end;
    auto r = u.ranges.upper_bound(start);
    if (r != u.ranges.begin() && std::prev(r)->second >= start) --r;
    while (r != u.ranges.end() && r->first <= stop) {
        start = std::min(start, r->first);
        stop = std::max(stop, r->second);
        r = u.ranges.erase(r);
    }
    u.ranges.emplace(start, stop);
    counters_.bytes_uploaded += data.size();
}

void CacheStore::commit(const std::string& scope, std::uint64_t id, std::uint64_t size) {
    std::lock_guard lock(mu_);
    auto it = uploads_.find(id);
    if (it == uploads_.end() || it->second.scope != scope) {
        throw CacheRefused(CacheRefusal::kNotFound,
                           "no upload in progress with cache id " + std::to_string(id));
    }
    auto& u = it->second;
    const bool whole = size == 0 ? u.ranges.empty()
                                 : u.ranges.size() == 1 && u.ranges.begin()->first == 0 &&
                                       u.ranges.begin()->second == size;
    std::uint64_t uploaded = 0;
    for (const auto& [a, b] : u.ranges) uploaded += b - a;
    if (!whole) {
        throw CacheRefused(CacheRefusal::kBadRequest,
                           "commit of '" + u.key + "' says " + std::to_string(size) +
                               " bytes but " + std::to_string(uploaded) + " bytes in " +
                               std::to_string(u.ranges.size()) +
                               " range(s) were uploaded; upload every chunk before committing");
    }
    if (::fsync(u.fd.get()) != 0 || ::ftruncate(u.fd.get(), static_cast<off_t>(size)) != 0) {
        throw CacheRefused(CacheRefusal::kStorage, "cannot flush '" + uploadPath(id).string() +
                                                       "': " + std::strerror(errno));
    }
    std::error_code ec;
    fs::rename(uploadPath(id), entryPath(id, ".archive"), ec);
    if (ec) {
        throw CacheRefused(CacheRefusal::kStorage,
                           "cannot publish cache entry '" + u.key + "': " + ec.message());
    }
    const auto now = tickLocked();
    CacheEntry e{id, u.scope, u.key, u.version, size, now, now};
    try {
        saveEntry(e);
    } catch (const base::Error& err) {
        fs::remove(entryPath(id, ".archive"), ec);
        uploading_bytes_ -= it->second.high;
        uploads_.erase(it);
        throw CacheRefused(CacheRefusal::kStorage, err.what());
    }
    uploading_bytes_ -= it->second.high;
    uploads_.erase(it);
    entries_[id] = e;
    stored_bytes_ += size;
    ++counters_.entries_committed;
    evictLocked(id);
}

std::int64_t CacheStore::tickLocked() {
    last_tick_ = std::max(nowMs(), last_tick_ + 1);
    return last_tick_;
}

void CacheStore::abandon(std::uint64_t id) {
    std::lock_guard lock(mu_);
    if (auto it = uploads_.find(id); it != uploads_.end()) dropUploadLocked(it);
}

void CacheStore::dropUploadLocked(std::map<std::uint64_t, Upload>::iterator it) {
    std::error_code ec;
    fs::remove(uploadPath(it->first), ec);
    uploading_bytes_ -= it->second.high;
    uploads_.erase(it);
}

void CacheStore::makeRoomLocked(std::uint64_t needed, std::uint64_t uploading_id) {
    const auto over = [&] { return stored_bytes_ + uploading_bytes_ + needed > budget_; };
    if (!over()) return;
    const auto now = std::chrono::steady_clock::now();
    for (auto it = uploads_.begin(); it != uploads_.end() && over();) {
        const auto next = std::next(it);
        if (it->first != uploading_id && now - it->second.last_activity >= upload_idle_limit_) {
            dropUploadLocked(it);  // its client went away without committing
        }
        it = next;
    }
    while (over() && !entries_.empty()) {
        const CacheEntry* oldest = nullptr;
        for (const auto& [id, e] : entries_) {
            if (!oldest || e.last_used_ms < oldest->last_used_ms ||
                (e.last_used_ms == oldest->last_used_ms && e.id < oldest->id)) {
                oldest = &e;
            }
        }
        removeEntryLocked(oldest->id);
        ++counters_.entries_evicted;
    }
    if (over()) {
        throw CacheRefused(CacheRefusal::kTooLarge,
                           "the cache is full: " + std::to_string(uploading_bytes_) +
                               " bytes are being uploaded by other jobs, and " +
                               std::to_string(needed) + " more would exceed the cache budget of " +
                               std::to_string(budget_) + " bytes; try again later");
    }
}

void CacheStore::removeEntryLocked(std::uint64_t id) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    std::error_code ec;
    // The index file goes first: without it the archive is an orphan the next start removes.
    fs::remove(entryPath(id, ".json"), ec);
    fs::remove(entryPath(id, ".archive"), ec);
    stored_bytes_ -= it->second.size;
    entries_.erase(it);
}

void CacheStore::evictLocked(std::uint64_t keep) {
    while (stored_bytes_ > budget_) {
        const CacheEntry* oldest = nullptr;
        for (const auto& [id, e] : entries_) {
            if (id == keep) continue;
            if (!oldest || e.last_used_ms < oldest->last_used_ms ||
                (e.last_used_ms == oldest->last_used_ms && e.id < oldest->id)) {
                oldest = &e;
            }
        }
        if (!oldest) break;
        removeEntryLocked(oldest->id);
        ++counters_.entries_evicted;
    }
}

std::optional<CacheStore::Archive> CacheStore::openArchive(std::uint64_t id) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return std::nullopt;
    base::UniqueFd fd(::open(entryPath(id, ".archive").c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;
    return Archive{it->second, std::move(fd)};
}

std::optional<CacheEntry> CacheStore::entry(std::uint64_t id) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
}

CacheCounters CacheStore::counters() {
    std::lock_guard lock(mu_);
    return counters_;
}

void CacheStore::countDownload(std::uint64_t bytes) {
    std::lock_guard lock(mu_);
    counters_.bytes_downloaded += bytes;
}

std::uint64_t CacheStore::storedBytes() {
    std::lock_guard lock(mu_);
    return stored_bytes_;
}

}  // namespace nixjail::runner::cache_server
