// The flake of a task's repository at the task's commit. The daemon has no working tree, so a job
// that declares no packages gets its devShell from the repository's flake, checked out whole
// through the checkout cache (a flake is the whole tree: flake.nix may import ./nix/shell.nix),
// with the task's token used here, outside the jail; once per commit, as the resolved devShell
// is remembered.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "runner/engine/checkout_provider.h"

namespace nixjail::runner::engine {

struct RepositoryAtCommit {
    std::string url;                   // <server_url>/<owner>/<repo>, as actions/checkout uses it
    std::string commit;                // github.sha
    std::optional<std::string> token;  // github.token; never written anywhere
};

// From a task's github context (server_url, repository, sha, token); nullopt when server_url,
// repository or sha is missing.
std::optional<RepositoryAtCommit> repositoryOfTask(const nlohmann::json& github);

// Checks out the tree of `repo` to `dst` (which must not exist) through
// `checkouts`. nullptr, with nothing left at `dst`, when the commit has no flake.nix. Throws
// base::Error naming the repository and commit when the checkout fails.
std::unique_ptr<CheckoutLease> checkOutFlake(const CheckoutProvider& checkouts,
                                             const RepositoryAtCommit& repo,
                                             const std::filesystem::path& dst);

}  // namespace nixjail::runner::engine
