// CacheGrant: a task's runtime token may use the runner's actions/cache server while the task
// runs: saving into the repository's scope for the task's ref, restoring from it and then from the
// default branch's (GitHub's rule); revoked when the grant ends.
#pragma once

#include <optional>

#include "runner/base/secret.h"
#include "runner/cache_server/cache_server.h"
#include "runner/forge/forge_client.h"
#include "runner/store/job_store.h"

namespace nixjail::runner::daemon {

class CacheGrant {
  public:
    // No grant without a server or without a runtime token in the task's context.
    CacheGrant(cache_server::CacheServer* server, const forge::Task& task);
    ~CacheGrant();
    CacheGrant(const CacheGrant&) = delete;
    CacheGrant& operator=(const CacheGrant&) = delete;

    // What the task's job did with the cache so far; none without a grant.
    std::optional<store::ActionsCacheUsage> usage() const;

  private:
    cache_server::CacheServer* server_;
    base::Secret token_;
};

}  // namespace nixjail::runner::daemon
