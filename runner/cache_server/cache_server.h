// The runner's built-in server for `actions/cache` (the v1 "artifactcache" REST API that
// ACTIONS_CACHE_URL points to), backed by a CacheStore on local disk.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "runner/base/secret.h"
#include "runner/cache_server/cache_store.h"

namespace nixjail::runner::cache_server {

inline constexpr std::uint64_t kDefaultCacheBudget = 10ull << 30;  // GitHub's per-repository limit

struct CacheServerConfig {
    std::filesystem::path dir;
    std::uint64_t budget_bytes = kDefaultCacheBudget;
    std::string bind_address = "127.0.0.1";
    std::uint16_t port = 0;  // 0: any free port
    std::chrono::steady_clock::duration upload_idle_limit = kDefaultUploadIdleLimit;
    // Where failed requests are logged (at debug: the client gets the message); null = nowhere.
    std::shared_ptr<spdlog::logger> logger;
};

// What the jobs of one token did with the cache: lookups that found an entry and the size of the
// entries found (what a restore downloads), lookups that found none, and the size of the entries
// saved.
struct CacheUsage {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t bytes_saved = 0;
    std::uint64_t bytes_restored = 0;
};

// Owns the listening socket, the store and one io thread; the destructor stops them and drops
// uploads still in progress. Requests must carry `Authorization: Bearer <token>` with a token
// given to authorize(); each token sees only its scope's entries. Archive downloads (which
// @actions/cache fetches without the bearer token) are authorised by a signature in their URL.
class CacheServer {
  public:
    explicit CacheServer(CacheServerConfig config);
    ~CacheServer();
    CacheServer(const CacheServer&) = delete;
    CacheServer& operator=(const CacheServer&) = delete;

    // Lets `token` save entries into `scope` and restore from `scope`, until revoked. A scope is
    // any string; the runner uses the repository ("owner/repo").
    void authorize(const base::Secret& token, const std::string& scope);
    // The same, with GitHub's branch rules spelled out by the caller: save into `write_scope`
    // (e.g. "owner/repo@refs/heads/feature"), restore from `read_scopes` in order (that scope,
    // then the default branch's). Archives of any read scope may be downloaded.
    void authorize(const base::Secret& token, const std::string& write_scope,
                   std::vector<std::string> read_scopes);
    void revoke(const base::Secret& token);

    std::uint16_t port() const;
    // "http://127.0.0.1:PORT/": the value for ACTIONS_CACHE_URL.
    std::string baseUrl() const;
    CacheCounters counters() const;
    // The usage of `token` since it was authorised (all zero for a token not authorised now):
    // read it before revoke().
    CacheUsage usage(const base::Secret& token) const;

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace nixjail::runner::cache_server
