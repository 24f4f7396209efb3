// ClosureMemo: what Nix answered about package sets, remembered on disk, so a job whose packages
// were resolved before gets its closure without spawning Nix.
//
// Two kinds of entry, each a small JSON file under the memo's directory:
// - packages: (nixpkgs identity, package names) -> the packages' store paths. Only as good as the
//   identity: the caller says how long an answer may be trusted (forever for an immutable nixpkgs).
// - closure: (store paths) -> the closure and its size. Store paths are immutable, so these never
//   expire.
// An entry whose store paths are no longer all in the store (collected garbage) is not returned.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace nixjail::cache {

struct ClosureFacts {
    std::vector<std::string> paths;  // the whole closure, sorted
    uint64_t bytes = 0;              // the sum of their NAR sizes; 0: unknown
};

class ClosureMemo {
  public:
    // Seconds since the epoch; tests give their own.
    using Clock = std::function<int64_t()>;
    // `dir` is created on first write. `max_entries` bounds the directory: a write beyond it
    // removes the least recently written entries first.
    explicit ClosureMemo(std::filesystem::path dir, size_t max_entries = 4096, Clock now = {});

    // The store paths `names` resolved to in the nixpkgs `identity`, when remembered within
    // `max_age` (nullopt: no limit) and every path is still in the store.
    std::optional<std::vector<std::string>> packages(const std::string& identity,
                                                     const std::vector<std::string>& names,
                                                     std::optional<std::chrono::seconds> max_age) const;
    void rememberPackages(const std::string& identity, const std::vector<std::string>& names,
                          const std::vector<std::string>& paths);

    // The closure of `roots` (order and duplicates do not matter), when every path of it is still
    // in the store.
    std::optional<ClosureFacts> closure(const std::vector<std::string>& roots) const;
    void rememberClosure(const std::vector<std::string>& roots, const ClosureFacts& facts);

    // Removes every entry; the number removed.
    size_t clear();
    size_t size() const;
    const std::filesystem::path& dir() const { return dir_; }

  private:
    std::filesystem::path entryPath(const std::string& kind, const std::string& key) const;
    void write(const std::filesystem::path& path, const std::string& json);

    std::filesystem::path dir_;
    size_t max_entries_;
    Clock now_;
};

}  // namespace nixjail::cache
