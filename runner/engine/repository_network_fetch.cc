// Fetching a task repository's network file alone through the checkout cache.
#include "runner/engine/repository_network_fetch.h"

#include <memory>

#include "runner/base/error.h"
#include "runner/base/temp_dir.h"

namespace nixjail::runner::engine {

std::optional<network::RepositoryNetwork> fetchRepositoryNetwork(
    const CheckoutProvider& checkouts, const RepositoryAtCommit& repo,
    const std::filesystem::path& scratch_parent) {
    const std::string file = network::kRepositoryNetworkFile;
    if (!checkouts) {
        throw base::Error("cannot read " + file + " of '" + repo.url +
                          "': this runner has no checkout cache");
    }
    base::TempDir scratch("nixjail-repo-network-", scratch_parent);
    CheckoutSpec spec;
    spec.url = repo.url;
    spec.rev = repo.commit;
    spec.sparse_paths = {file};
    spec.token = repo.token;
    std::unique_ptr<CheckoutLease> lease;  // after `scratch`: gone before it
    try {
        lease = checkouts(spec, scratch.path() / "tree");
    } catch (const std::exception& e) {
        throw base::Error("cannot fetch " + file + " of '" + repo.url + "' at " + repo.commit +
                          " (the runner's proxy.repository_policy reads it): " + e.what());
    }
    return network::readRepositoryNetwork(scratch.path() / "tree",
                                          repo.url + " at " + repo.commit.substr(0, 12) + ": " + file);
}

}  // namespace nixjail::runner::engine
