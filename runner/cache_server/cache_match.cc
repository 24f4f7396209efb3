// Which stored entry answers a lookup: GitHub's rules for key and restore-keys.
#include <algorithm>

#include "runner/cache_server/cache_entry.h"

namespace nixjail::runner::cache_server {

std::optional<CacheEntry> matchEntry(const std::vector<CacheEntry>& entries,
                                     const std::string& scope, const std::vector<std::string>& keys,
                                     const std::string& version) {
    if (keys.empty()) return std::nullopt;
    std::vector<const CacheEntry*> candidates;
    for (const auto& e : entries) {
        if (e.scope == scope && e.version == version) candidates.push_back(&e);
    }
    // Newest first; the id breaks ties between entries committed in the same millisecond.
    std::sort(candidates.begin(), candidates.end(), [](const CacheEntry* a, const CacheEntry* b) {
        return a->created_ms != b->created_ms ? a->created_ms > b->created_ms : a->id > b->id;
    });
    for (const auto* e : candidates) {
        if (e->key == keys.front()) return *e;
    }
    for (const auto& prefix : keys) {
        for (const auto* e : candidates) {
            if (e->key.starts_with(prefix)) return *e;
        }
    }
    return std::nullopt;
}

}  // namespace nixjail::runner::cache_server
