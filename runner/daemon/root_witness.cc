// Recording what a root provider made, without changing what it hands the engine.
#include "runner/daemon/root_witness.h"

#include <utility>

namespace nixjail::runner::daemon {

engine::RootProvider RootWitness::wrap(engine::RootProvider inner) {
    return [this, inner = std::move(inner)](const engine::RootRequest& request,
                                            const std::filesystem::path& dst) {
        auto root = inner(request, dst);
        if (root) {
            const auto origin = root->origin();
            RootRecord r{.packages = request.packages,
                         .labels = request.labels,
                         .extra = request.extra,
                         .source = root->source(),
                         .closure_key = origin.closure_key,
                         .nixpkgs = origin.nixpkgs,
                         .nixpkgs_identity = origin.nixpkgs_identity};
            std::lock_guard lock(mu_);
            seen_ = std::move(r);
        }
        return root;
    };
}

std::optional<RootRecord> RootWitness::seen() const {
    std::lock_guard lock(mu_);
    return seen_;
}

}  // namespace nixjail::runner::daemon
