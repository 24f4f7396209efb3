// EntryIndex: the committed entries, `<dir>/<id>.archive` plus `<dir>/<id>.json` each, with their
// total size and the clock that orders them by last use. Not thread-safe: CacheStore calls it
// under its lock.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runner/cache_server/cache_entry.h"

namespace nixjail::runner::cache_server {

class EntryIndex {
  public:
    // Reads the index files in `dir`; drops (deletes) entries whose index file is unreadable or
    // whose archive is missing or of the wrong size, and archives without an index file.
    explicit EntryIndex(std::filesystem::path dir);

    // One more than the highest id of any file found at start, dropped ones included (1 if none).
    std::uint64_t nextIdOnDisk() const { return next_id_on_disk_; }
    // The sum of the entries' sizes.
    std::uint64_t bytes() const { return bytes_; }
    std::vector<CacheEntry> all() const;
    std::optional<CacheEntry> find(std::uint64_t id) const;
    bool holds(const std::string& scope, const std::string& key, const std::string& version) const;
    // Where the archive of entry `id` lives (or is to be moved before add()).
    std::filesystem::path archivePath(std::uint64_t id) const;

    // Publishes an entry whose archive is in place, created and last used now; returns it. When
    // its index file cannot be written, deletes the archive and throws CacheRefused(kStorage).
    CacheEntry add(std::uint64_t id, std::string scope, std::string key, std::string version,
                   std::uint64_t size);
    // Marks entry `id` (which must exist) used now and returns it. Failing to save that only
    // costs LRU order, so it is ignored.
    CacheEntry touch(std::uint64_t id);
    // Deletes entry `id` and its files, if it exists.
    void remove(std::uint64_t id);
    // The least recently used entry other than `except` (ties: the lower id); nullopt if none.
    std::optional<std::uint64_t> leastRecentlyUsed(std::uint64_t except = 0) const;

  private:
    std::filesystem::path indexPath(std::uint64_t id) const;
    void save(const CacheEntry& e) const;
    // Wall-clock milliseconds, but strictly increasing, so uses in the same millisecond still
    // order.
    std::int64_t tick();

    const std::filesystem::path dir_;
    std::map<std::uint64_t, CacheEntry> entries_;
    std::uint64_t bytes_ = 0;
    std::int64_t last_tick_ = 0;
    std::uint64_t next_id_on_disk_ = 1;
};

}  // namespace nixjail::runner::cache_server
