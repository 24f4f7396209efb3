// The actions/cache entries on local disk: reservations, chunked uploads, commits, lookups and
// LRU eviction under a size budget. Thread-safe; the HTTP layer (cache_server.cc) only translates.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "runner/base/unique_fd.h"

namespace nixjail::runner::cache_server {

// What the runner records about cache use (per server, i.e. per run or job).
struct CacheCounters {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t bytes_uploaded = 0;
    std::uint64_t bytes_downloaded = 0;
    std::uint64_t entries_committed = 0;
    std::uint64_t entries_evicted = 0;
};

struct CacheEntry {
    std::uint64_t id = 0;
    std::string scope;  // the repository, e.g. "owner/repo"
    std::string key;
    std::string version;
    std::uint64_t size = 0;
    std::int64_t created_ms = 0;
    std::int64_t last_used_ms = 0;
};

// Why a request was refused; the HTTP layer maps this to a status code.
enum class CacheRefusal { kBadRequest, kNotFound, kConflict, kTooLarge, kStorage };

class CacheRefused : public std::runtime_error {
  public:
    CacheRefused(CacheRefusal why, const std::string& what) : std::runtime_error(what), why_(why) {}
    CacheRefusal why() const { return why_; }

  private:
    CacheRefusal why_;
};

// GitHub's matching: an exact match of the first key, then every key as a prefix, newest first;
// only entries of `scope` with the same version count.
std::optional<CacheEntry> matchEntry(const std::vector<CacheEntry>& entries,
                                     const std::string& scope, const std::vector<std::string>& keys,
                                     const std::string& version);

inline constexpr std::chrono::steady_clock::duration kDefaultUploadIdleLimit =
    std::chrono::minutes(30);

class CacheStore {
  public:
    // Opens (or creates) the store under `dir`; removes uploads left half-done by an earlier run.
    // An upload idle for `upload_idle_limit` no longer blocks its key (its client is presumed
    // gone).
    CacheStore(std::filesystem::path dir, std::uint64_t budget_bytes,
               std::chrono::steady_clock::duration upload_idle_limit = kDefaultUploadIdleLimit);
    // Deletes the files of uploads still in progress: they can never be committed now.
    ~CacheStore();
    CacheStore(const CacheStore&) = delete;
    CacheStore& operator=(const CacheStore&) = delete;

    // Searches each scope in turn (e.g. the job's branch, then the default branch).
    std::optional<CacheEntry> lookup(const std::vector<std::string>& scopes,
                                     const std::vector<std::string>& keys,
                                     const std::string& version);
    // Returns the new reservation's id; throws CacheRefused (kConflict for a key+version that is
    // already stored or being uploaded in this scope, kTooLarge beyond the budget).
    std::uint64_t reserve(const std::string& scope, const std::string& key,
                          const std::string& version, std::uint64_t declared_size);
    // Writes bytes [offset, offset+data.size()) of reservation `id`. Chunks may come in any order.
    void writeChunk(const std::string& scope, std::uint64_t id, std::uint64_t offset,
                    std::string_view data);
    // Checks that exactly [0, size) was uploaded, publishes the entry, then evicts down to budget.
    void commit(const std::string& scope, std::uint64_t id, std::uint64_t size);
    // Drops a reservation whose upload broke off (a connection closed mid-body keeps it: clients
    // retry).
    void abandon(std::uint64_t id);
    // An open, read-only archive and its entry; the fd stays valid even if the entry is evicted.
    struct Archive {
        CacheEntry entry;
        base::UniqueFd fd;
    };
    std::optional<Archive> openArchive(std::uint64_t id);
    std::optional<CacheEntry> entry(std::uint64_t id);

    CacheCounters counters();
    void countDownload(std::uint64_t bytes);
    std::uint64_t storedBytes();
    const std::filesystem::path& dir() const { return dir_; }

  private:
    struct Upload {
        std::string scope, key, version;
        std::uint64_t declared_size = 0;
        base::UniqueFd fd;
        std::map<std::uint64_t, std::uint64_t> ranges;  // start -> end (exclusive), merged
        std::chrono::steady_clock::time_point last_activity;
        std::uint64_t high = 0;  // the end of the furthest chunk: what it holds on disk, at most
    };
    // Removes an upload and its file, and its bytes from uploading_bytes_.
    void dropUploadLocked(std::map<std::uint64_t, Upload>::iterator it);
    // Makes room for `needed` more bytes under the budget, which counts stored entries and uploads
    // in progress alike: drops idle uploads, then evicts least recently used entries; throws
    // CacheRefused(kTooLarge) when even that is not enough.
    void makeRoomLocked(std::uint64_t needed, std::uint64_t uploading_id);
    std::filesystem::path entryPath(std::uint64_t id, const char* ext) const;
    std::filesystem::path uploadPath(std::uint64_t id) const;
    void loadIndex();
    void saveEntry(const CacheEntry& e);
    void removeEntryLocked(std::uint64_t id);
    void evictLocked(std::uint64_t keep);
    // Wall-clock milliseconds, but strictly increasing, so uses in the same millisecond still
    // order.
    std::int64_t tickLocked();

    const std::filesystem::path dir_;
    const std::uint64_t budget_;
    const std::chrono::steady_clock::duration upload_idle_limit_;
    std::mutex mu_;
    std::map<std::uint64_t, CacheEntry> entries_;
    std::map<std::uint64_t, Upload> uploads_;
    std::uint64_t next_id_ = 1;
    std::uint64_t stored_bytes_ = 0;
    std::uint64_t uploading_bytes_ = 0;  // sum of the uploads' `high`
    std::int64_t last_tick_ = 0;
    CacheCounters counters_;
};

}  // namespace nixjail::runner::cache_server
