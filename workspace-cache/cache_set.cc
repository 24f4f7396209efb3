// The three caches of one directory.
#include "workspace-cache/cache_set.h"

namespace nixjail::cache {

namespace fs = std::filesystem;

CacheSet::CacheSet(fs::path dir, std::optional<StorageKind> storage) : dir_(std::move(dir)) {
    for (const char* sub : {"roots", "git", "checkouts"}) fs::create_directories(dir_ / sub);
    storage_ = openStorage(dir_ / "roots", storage);
    roots_ = std::make_unique<RootCache>(*storage_, dir_ / "roots");
    mirrors_ = std::make_unique<GitMirrors>(dir_ / "git");
    checkouts_ = std::make_unique<CheckoutCache>(*storage_, dir_ / "checkouts", *mirrors_);
}

PruneReport CacheSet::prune(const CacheBudgets& budgets) {
    PruneReport out;
    if (budgets.roots) out.roots = roots_->prune(budgets.roots);
    if (budgets.checkouts) out.checkouts = checkouts_->prune(budgets.checkouts);
    if (budgets.git) out.git = mirrors_->prune(budgets.git);
    return out;
}

}  // namespace nixjail::cache
