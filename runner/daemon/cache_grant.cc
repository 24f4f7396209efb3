// Authorising a task's runtime token on the actions/cache server for the task's repository.
#include "runner/daemon/cache_grant.h"

#include <string>
#include <vector>

#include "runner/daemon/task_plan.h"

namespace nixjail::runner::daemon {

CacheGrant::CacheGrant(cache_server::CacheServer* server, const forge::Task& task)
    : server_(server), token_(runtimeToken(task)) {
    if (!server_ || token_.reveal().empty()) {
        server_ = nullptr;
        return;
    }
    const std::string repo = contextString(task.context, "repository");
    const std::string ref = contextString(task.context, "ref");
    std::string default_branch;
    const nlohmann::json& ctx = task.context;
    if (ctx.contains("event") && ctx["event"].is_object() && ctx["event"].contains("repository") &&
        ctx["event"]["repository"].is_object()) {
        const auto& r = ctx["event"]["repository"];
        if (r.contains("default_branch") && r["default_branch"].is_string())
            default_branch = r["default_branch"].get<std::string>();
    }
    const std::string write = ref.empty() ? repo : repo + "@" + ref;
    std::vector<std::string> reads{write};
    if (!default_branch.empty() && ref != "refs/heads/" + default_branch)
        reads.push_back(repo + "@refs/heads/" + default_branch);
    server_->authorize(token_, write, reads);
}

CacheGrant::~CacheGrant() {
    if (server_) server_->revoke(token_);
}

std::optional<store::ActionsCacheUsage> CacheGrant::usage() const {
    if (!server_) return std::nullopt;
    const auto u = server_->usage(token_);
    return store::ActionsCacheUsage{static_cast<int64_t>(u.hits), static_cast<int64_t>(u.misses),
                                    static_cast<int64_t>(u.bytes_saved),
                                    static_cast<int64_t>(u.bytes_restored)};
}

}  // namespace nixjail::runner::daemon
