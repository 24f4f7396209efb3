// EntryStore: a directory of cache entries, each built once per key, pinned while in use and
// evicted least-recently-used first. RootCache and CheckoutCache are built on it.
//
// Layout under `dir`: `<key>/` the entry's tree (made by the Storage), `<key>.done` the marker
// holding the tree's size, written last (an entry without it is half-built and gets rebuilt),
// `<key>.lock` an flock (shared by users, exclusive for building and evicting), `tmp/` trees
// being built. The marker's mtime is the entry's last use.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "workspace-cache/file_lock.h"
#include "workspace-cache/storage.h"

namespace nixjail::cache {

// Keeps one entry from being evicted while it exists.
class EntryPin {
  public:
    EntryPin() = default;
    EntryPin(std::string key, std::filesystem::path path, bool hit, FileLock lock)
        : key_(std::move(key)), path_(std::move(path)), hit_(hit), lock_(std::move(lock)) {}

    const std::string& key() const { return key_; }
    const std::filesystem::path& path() const { return path_; }
    // True when the entry was already built (a cache hit).
    bool hit() const { return hit_; }

  private:
    std::string key_;
    std::filesystem::path path_;
    bool hit_ = false;
    FileLock lock_;
};

struct EntryInfo {
    std::string key;
    std::uint64_t size_bytes = 0;
    std::chrono::system_clock::time_point last_used;
    bool in_use = false;
};

class EntryStore {
  public:
    // Fills a freshly created tree; throwing aborts the build and leaves nothing behind.
    using Builder = std::function<void(const std::filesystem::path& tree)>;

    EntryStore(Storage& storage, std::filesystem::path dir);

    // Returns the entry for `key`, building it first when it is missing or half-built. Concurrent
    // callers (threads or processes) with the same key build it once.
    EntryPin acquire(const std::string& key, const Builder& build);
    std::vector<EntryInfo> list() const;
    // Evicts unpinned entries, least recently used first, until the total is within
    // `budget_bytes`; also removes half-built leftovers. Returns the removed keys (leftovers in
    // tmp/ as "tmp/<key>").
    std::vector<std::string> prune(std::uint64_t budget_bytes);

    Storage& storage() const { return storage_; }
    const std::filesystem::path& dir() const { return dir_; }

  private:
    bool isComplete(const std::string& key) const;
    void build(const std::string& key, const Builder& build);
    void removeEntry(const std::string& key);

    Storage& storage_;
    std::filesystem::path dir_;
};

// Sum of allocated bytes of every file and directory under `path` (as du does).
std::uint64_t treeSize(const std::filesystem::path& path);

}  // namespace nixjail::cache
