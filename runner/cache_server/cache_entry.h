// CacheEntry: one committed actions/cache entry, and which entry answers a lookup (matchEntry).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nixjail::runner::cache_server {

struct CacheEntry {
    std::uint64_t id = 0;
    std::string scope;  // the repository, e.g. "owner/repo"
    std::string key;
    std::string version;
    std::uint64_t size = 0;
    std::int64_t created_ms = 0;
    std::int64_t last_used_ms = 0;
};

// GitHub's matching: an exact match of the first key, then every key as a prefix, newest first;
// only entries of `scope` with the same version count.
std::optional<CacheEntry> matchEntry(const std::vector<CacheEntry>& entries,
                                     const std::string& scope, const std::vector<std::string>& keys,
                                     const std::string& version);

}  // namespace nixjail::runner::cache_server
