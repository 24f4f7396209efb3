// The daemon's way to a task repository's .nixjail-network.yaml (runner/network/
// repository_network.h): the one file at the task's commit, a sparse checkout through the checkout
// cache with the task's token, outside the jail, before the job starts.
#pragma once

#include <filesystem>
#include <optional>

#include "runner/engine/checkout_provider.h"
#include "runner/engine/repository_flake.h"
#include "runner/network/repository_network.h"

namespace nixjail::runner::engine {

// nullopt when the commit has no such file. The checkout goes to a scratch directory under
// `scratch_parent` (empty: $TMPDIR) and is gone on return. Throws base::Error naming the
// repository and commit when the fetch fails or the file is invalid.
std::optional<network::RepositoryNetwork> fetchRepositoryNetwork(
    const CheckoutProvider& checkouts, const RepositoryAtCommit& repo,
    const std::filesystem::path& scratch_parent);

}  // namespace nixjail::runner::engine
