// Checkouts of repositories other than the local working tree (actions/checkout with
// `repository:`), served by workspace-cache: a git mirror per remote, a cached checkout per
// (remote, commit, sparse paths), one snapshot per job.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "workspace-cache/checkout_cache.h"
#include "workspace-cache/storage.h"

namespace nixjail::runner::engine {

struct CheckoutSpec {
    std::string url;
    std::string rev;                    // branch, tag or commit
    std::vector<std::string> sparse_paths;
    bool sparse_cone = false;           // sparse_paths are directories, as git's cone mode
    std::optional<std::string> token;   // handed to git outside the jail, never written anywhere
    // The workspace's .git (none: files only): fetch-depth (0: all history), fetch-tags, the ref
    // HEAD is named after (a branch gives a local branch) and origin's URL.
    std::optional<cache::GitDirRequest> git_dir;
    bool list_submodules = false;       // fill CheckoutLease::submodules()
};

// A submodule of a checkout: where it goes in the superproject and what to check out there.
struct SubmoduleRef {
    std::string path;
    std::string url;  // resolved against the superproject's URL
    std::string commit;
};

class CheckoutLease {
public:
    virtual ~CheckoutLease() = default;  // removes the job's snapshot
    virtual const std::string& commit() const = 0;
    virtual bool cacheHit() const = 0;
    virtual const std::vector<SubmoduleRef>& submodules() const = 0;  // with list_submodules
    // Keeps the destructor from removing the snapshot by its path: a job replaced a directory on
    // that path with a link, and the removal would follow it. The job directory's removal, which
    // follows no link, takes the snapshot instead.
    virtual void abandon() = 0;
};

// Puts the checkout at `dst` (which must not exist).
using CheckoutProvider =
    std::function<std::unique_ptr<CheckoutLease>(const CheckoutSpec&, const std::filesystem::path& dst)>;

// The provider over a cache directory (<dir>/git, <dir>/checkouts).
class CachedCheckouts {
public:
    // `storage`: the checkouts' backend (nullopt: detected); a forced one that cannot work in
    // <cache_dir>/checkouts throws (cache::openStorage).
    explicit CachedCheckouts(const std::filesystem::path& cache_dir,
                             std::optional<cache::StorageKind> storage = std::nullopt);
    ~CachedCheckouts();
    std::unique_ptr<CheckoutLease> checkout(const CheckoutSpec& spec, const std::filesystem::path& dst);
    CheckoutProvider asProvider() {
        return [this](const auto& s, const auto& d) { return checkout(s, d); };
    }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace nixjail::runner::engine
