// The actions/cache store on local disk: reservations, chunked uploads, commits, lookups and LRU
// eviction under a size budget that counts uploads in progress too. Thread-safe; it keeps the
// budget and the counters, and leaves the files to UploadTable and EntryIndex. The HTTP layer
// (cache_server.cc) only translates.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/base/unique_fd.h"
#include "runner/cache_server/cache_entry.h"
#include "runner/cache_server/cache_refused.h"
#include "runner/cache_server/entry_index.h"
#include "runner/cache_server/upload_table.h"

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

inline constexpr std::chrono::steady_clock::duration kDefaultUploadIdleLimit =
    std::chrono::minutes(30);

class CacheStore {
  public:
    // Opens (or creates) the store under `dir`; removes uploads left half-done by an earlier run.
    // An upload idle for `upload_idle_limit` no longer blocks its key (its client is presumed
    // gone). The files of uploads still in progress are deleted with the store.
    CacheStore(std::filesystem::path dir, std::uint64_t budget_bytes,
               std::chrono::steady_clock::duration upload_idle_limit = kDefaultUploadIdleLimit);
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
    // A chunk beyond the entry's limit (kTooLarge) or one the disk refuses (kStorage) drops the
    // whole upload, freeing its space.
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
    // Makes room for `needed` more bytes under the budget, which counts stored entries and uploads
    // in progress alike: drops idle uploads, then evicts least recently used entries; throws
    // CacheRefused(kTooLarge) when even that is not enough.
    void makeRoomLocked(std::uint64_t needed, std::uint64_t uploading_id);
    // Evicts least recently used entries other than `keep` until the stored ones fit the budget.
    void evictLocked(std::uint64_t keep);

    const std::filesystem::path dir_;  // declared first: the constructor creates its directories
    const std::uint64_t budget_;
    std::mutex mu_;
    UploadTable uploads_;
    EntryIndex entries_;
    std::uint64_t next_id_;  // shared: an upload's id becomes its entry's id
    CacheCounters counters_;
};

}  // namespace nixjail::runner::cache_server
