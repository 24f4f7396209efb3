// The runner's three caches under one directory (<dir>/roots, <dir>/checkouts, <dir>/git), for
// the code that looks at or trims them as a whole (`cache list|prune`, the daemon's budgets).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "workspace-cache/checkout_cache.h"
#include "workspace-cache/git_mirror.h"
#include "workspace-cache/root_cache.h"
#include "workspace-cache/storage.h"

namespace nixjail::cache {

struct CacheBudgets {
    std::uint64_t roots = 0, checkouts = 0, git = 0;  // bytes; 0: that cache is not trimmed
};

struct PruneReport {
    std::vector<std::string> roots, checkouts, git;  // what was removed
};

class CacheSet {
  public:
    // Creates the three directories when missing; throws base::Error (SysError) when it cannot.
    // `storage`: the backend for roots and checkouts (nullopt: detected); a forced one that cannot
    // work in `dir` throws (see openStorage).
    explicit CacheSet(std::filesystem::path dir, std::optional<StorageKind> storage = std::nullopt);

    // Least recently used entries that nobody uses, until each cache fits its budget.
    PruneReport prune(const CacheBudgets& budgets);

    const std::filesystem::path& dir() const { return dir_; }
    Storage& storage() { return *storage_; }
    RootCache& roots() { return *roots_; }
    GitMirrors& mirrors() { return *mirrors_; }
    CheckoutCache& checkouts() { return *checkouts_; }

  private:
    std::filesystem::path dir_;
    std::unique_ptr<Storage> storage_;
    std::unique_ptr<RootCache> roots_;
    std::unique_ptr<GitMirrors> mirrors_;
    std::unique_ptr<CheckoutCache> checkouts_;
};

}  // namespace nixjail::cache
