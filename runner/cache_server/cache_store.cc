// CacheStore: entries live in `entries/` (EntryIndex), uploads in progress in `uploads/`
// (UploadTable); this file decides what is allowed, and what gives way when the budget is reached.
#include "runner/cache_server/cache_store.h"

#include <fcntl.h>

#include <algorithm>
#include <system_error>

#include "runner/base/error.h"

namespace nixjail::runner::cache_server {

namespace fs = std::filesystem;

namespace {

// Creates `dir/entries` and `dir/uploads`; returns `dir`.
fs::path createStoreDirs(fs::path dir) {
    std::error_code ec;
    fs::create_directories(dir / "entries", ec);
    if (!ec) fs::create_directories(dir / "uploads", ec);
    if (ec) {
        throw base::Error("cannot create the actions cache directory '" + dir.string() +
                          "': " + ec.message() + "; choose another with --cache-server-dir");
    }
    return dir;
}

}  // namespace

CacheStore::CacheStore(fs::path dir, std::uint64_t budget_bytes,
                       std::chrono::steady_clock::duration upload_idle_limit)
    : dir_(createStoreDirs(std::move(dir))),
      budget_(budget_bytes),
      uploads_(dir_ / "uploads", upload_idle_limit),
      entries_(dir_ / "entries"),
      next_id_(std::max(uploads_.nextIdOnDisk(), entries_.nextIdOnDisk())) {}

std::optional<CacheEntry> CacheStore::lookup(const std::vector<std::string>& scopes,
                                             const std::vector<std::string>& keys,
                                             const std::string& version) {
    std::lock_guard lock(mu_);
    const auto all = entries_.all();
    std::optional<CacheEntry> hit;
    for (const auto& scope : scopes) {
        if ((hit = matchEntry(all, scope, keys, version))) break;
    }
    if (!hit) {
        ++counters_.misses;
        return std::nullopt;
    }
    ++counters_.hits;
    return entries_.touch(hit->id);
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
    if (entries_.holds(scope, key, version))
        throw CacheRefused(CacheRefusal::kConflict, "cache entry '" + key + "' already exists");
    CacheKey name{scope, key, version};
    uploads_.claim(name);
    const std::uint64_t id = next_id_++;
    uploads_.start(id, std::move(name), declared_size);
    return id;
}

void CacheStore::writeChunk(const std::string& scope, std::uint64_t id, std::uint64_t offset,
                            std::string_view data) {
    std::lock_guard lock(mu_);
    const auto& u = uploads_.find(scope, id);
    const std::uint64_t end = offset + data.size();
    const std::uint64_t limit = u.declared_size ? u.declared_size : budget_;
    if (end > limit || end < offset) {
        // This upload can never be committed: drop it, or its bytes would hold the budget (and
        // the disk) until it goes idle while every other job's save is refused.
        const std::string key = u.name.key;
        uploads_.drop(id);
        throw CacheRefused(CacheRefusal::kTooLarge,
                           "chunk ending at byte " + std::to_string(end) + " of '" + key +
                               "' is beyond its size limit of " + std::to_string(limit) +
                               "; the upload was dropped");
    }
    // The budget is a hard limit on disk use: an upload's bytes count while it is in progress.
    if (end > u.high) makeRoomLocked(end - u.high, id);
    try {
        uploads_.write(id, offset, data);
    } catch (const CacheRefused& e) {
        // A full disk: the part file would hold its space until the upload goes idle, while
        // every other job's save fails too. Its client does not retry a chunk the disk refused.
        const std::string key = u.name.key;
        uploads_.drop(id);
        throw CacheRefused(e.why(), std::string(e.what()) + "; the upload of '" + key +
                                        "' was dropped (reserve the key again to retry)");
    }
    counters_.bytes_uploaded += data.size();
}

void CacheStore::commit(const std::string& scope, std::uint64_t id, std::uint64_t size) {
    std::lock_guard lock(mu_);
    uploads_.find(scope, id);  // throws kNotFound
    auto name = uploads_.finish(id, size, entries_.archivePath(id));
    entries_.add(id, std::move(name.scope), std::move(name.key), std::move(name.version), size);
    ++counters_.entries_committed;
    evictLocked(id);
}

void CacheStore::abandon(std::uint64_t id) {
    std::lock_guard lock(mu_);
    uploads_.drop(id);
}

void CacheStore::makeRoomLocked(std::uint64_t needed, std::uint64_t uploading_id) {
    const auto over = [&] { return entries_.bytes() + uploads_.bytes() + needed > budget_; };
    // First the uploads whose clients went away without committing.
    while (over() && uploads_.dropOneIdle(uploading_id)) {
    }
    while (over()) {
        const auto victim = entries_.leastRecentlyUsed();
        if (!victim) break;
        entries_.remove(*victim);
        ++counters_.entries_evicted;
    }
    if (over()) {
        throw CacheRefused(CacheRefusal::kTooLarge,
                           "the cache is full: " + std::to_string(uploads_.bytes()) +
                               " bytes are being uploaded by other jobs, and " +
                               std::to_string(needed) + " more would exceed the cache budget of " +
                               std::to_string(budget_) + " bytes; try again later");
    }
}

void CacheStore::evictLocked(std::uint64_t keep) {
    while (entries_.bytes() > budget_) {
        const auto victim = entries_.leastRecentlyUsed(keep);
        if (!victim) break;
        entries_.remove(*victim);
        ++counters_.entries_evicted;
    }
}

std::optional<CacheStore::Archive> CacheStore::openArchive(std::uint64_t id) {
    std::lock_guard lock(mu_);
    auto e = entries_.find(id);
    if (!e) return std::nullopt;
    base::UniqueFd fd(::open(entries_.archivePath(id).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;
    return Archive{std::move(*e), std::move(fd)};
}

std::optional<CacheEntry> CacheStore::entry(std::uint64_t id) {
    std::lock_guard lock(mu_);
    return entries_.find(id);
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
    return entries_.bytes();
}

}  // namespace nixjail::runner::cache_server
