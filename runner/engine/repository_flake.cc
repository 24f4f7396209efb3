// Fetching a task repository's flake files through the checkout cache.
#include "runner/engine/repository_flake.h"

#include "runner/base/error.h"

namespace nixjail::runner::engine {

namespace fs = std::filesystem;

namespace {

std::string field(const nlohmann::json& github, const char* key) {
    auto it = github.find(key);
    return it != github.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::optional<RepositoryAtCommit> repositoryOfTask(const nlohmann::json& github) {
    if (!github.is_object()) return std::nullopt;
    std::string server = field(github, "server_url");
    const std::string repository = field(github, "repository");
    const std::string sha = field(github, "sha");
    while (!server.empty() && server.back() == '/') server.pop_back();
    if (server.empty() || repository.empty() || sha.empty()) return std::nullopt;
    RepositoryAtCommit repo{server + "/" + repository, sha, std::nullopt};
    if (auto token = field(github, "token"); !token.empty()) repo.token = token;
    return repo;
}

std::unique_ptr<CheckoutLease> checkOutFlake(const CheckoutProvider& checkouts,
                                             const RepositoryAtCommit& repo, const fs::path& dst) {
    if (!checkouts) {
        throw base::Error("cannot fetch flake.nix of '" + repo.url +
                          "': this run has no checkout cache");
    }
    CheckoutSpec spec;
    spec.url = repo.url;
    spec.rev = repo.commit;
    spec.token = repo.token;
    std::unique_ptr<CheckoutLease> lease;
    try {
        lease = checkouts(spec, dst);
    } catch (const std::exception& e) {
        throw base::Error(
            "cannot fetch flake.nix of '" + repo.url + "' at " + repo.commit +
            " for the job's devShell: " + e.what() +
            "; declare the job's packages instead (runner label packages or NIXJAIL_PACKAGES)");
    }
    if (!fs::is_regular_file(dst / "flake.nix")) return nullptr;  // the lease removes the checkout
    return lease;
}

}  // namespace nixjail::runner::engine
