// RootCache on top of EntryStore: key by closure, build with buildRootTree, lease per job.
#include "workspace-cache/root_cache.h"

#include <algorithm>
#include <system_error>

#include "workspace-cache/closure.h"

namespace nixjail::cache {

namespace fs = std::filesystem;

RootLease::RootLease(EntryPin pin, Storage& storage, std::vector<std::string> closure)
    : pin_(std::move(pin)), storage_(&storage), closure_(std::move(closure)) {}

std::string RootLease::binPath() const {
    std::string out;
    std::error_code ec;
    for (const auto& p : closure_) {
        if (!fs::is_directory(root() / fs::path(p).relative_path() / "bin", ec)) continue;
        out += (out.empty() ? "" : ":") + p + "/bin";
    }
    return out;
}

SubvolumeLease RootLease::snapshotTo(const fs::path& dst) const {
    return SubvolumeLease::snapshotOf(*storage_, root(), dst);
}

RootLease RootCache::acquire(const std::vector<std::string>& unsorted) {
    // Sorted, so that the root (e.g. which path provides /bin/sh) depends only on the key.
    std::vector<std::string> closure = unsorted;
    std::sort(closure.begin(), closure.end());
    closure.erase(std::unique(closure.begin(), closure.end()), closure.end());
    std::string key = closureKey(closure);
    Storage& storage = entries_.storage();
    EntryPin pin =
        entries_.acquire(key, [&](const fs::path& tree) { buildRootTree(storage, tree, closure); });
    return RootLease(std::move(pin), storage, closure);
}

}  // namespace nixjail::cache
