// NixRootProvider: package names -> nix-build against a nixpkgs -> closure -> cached root
// (workspace-cache's RootCache) -> a per-job overlay or snapshot, or for a RootRequest::shared
// the cached root itself.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

#include "runner/engine/checkout_provider.h"
#include "runner/engine/default_packages.h"
#include "runner/engine/job_root.h"
#include "runner/engine/repository_flake.h"
#include "workspace-cache/closure.h"
#include "workspace-cache/closure_memo.h"
#include "workspace-cache/root_cache.h"
#include "workspace-cache/storage.h"

namespace nixjail::runner::engine {

struct NixRootConfig {
    // What nix-build resolves package names in: a nixpkgs checkout (or any expression with the
    // attributes), a lookup path (<nixpkgs>) or a URL (nixpkgs_locator.h); empty: none.
    std::filesystem::path nixpkgs;
    // Roots live in <cache_dir>/roots; what Nix answered about package sets in
    // <cache_dir>/closures (cache::ClosureMemo), so that a known package set costs no Nix call.
    std::filesystem::path cache_dir;
    cache::NixTools tools;
    // A repository with a flake.nix: a job that declares no packages gets the packages of its
    // devShells.<system>.default instead.
    std::optional<std::filesystem::path> devshell_flake;
    // A job that declares no packages and has no devShell gets its runs-on label's set.
    DefaultPackages default_packages = DefaultPackages::builtIn();
    // The roots' storage backend; nullopt: detected. A forced one that cannot work in
    // <cache_dir>/roots makes the constructor throw (cache::openStorage).
    std::optional<cache::StorageKind> storage;
};

class NixRootProvider {
public:
    explicit NixRootProvider(NixRootConfig config);
    std::unique_ptr<JobRoot> provide(const RootRequest& request, const std::filesystem::path& dst);

    struct WarmResult {
        std::string key;
        size_t paths = 0;
        bool hit = false;
    };
    // Builds (or finds) the cached root for `packages` without a job (`cache warm`).
    WarmResult warm(const std::vector<std::string>& packages);
    RootProvider asProvider() {
        return [this](const auto& p, const auto& d) { return provide(p, d); };
    }
    // For one daemon task, whose repository is not on this machine: a job that declares no
    // packages gets the devShells.<system>.default of the flake in `repo` at its commit (flake.nix
    // and flake.lock fetched through `checkouts` when the root is made, resolved once per
    // repository and commit). Without a flake.nix there (then its label's default set), or when
    // packages are declared, the same as provide(). `checkouts` must outlive the provider.
    RootProvider forRepository(RepositoryAtCommit repo, CheckoutProvider checkouts);
    // The same for a task's github context (repositoryOfTask); asProvider() when it names no
    // repository and commit.
    RootProvider forTask(const nlohmann::json& github, CheckoutProvider checkouts);
    // Throws base::Error saying why when Nix cannot build here (nix_preflight.h); checked once, and
    // otherwise before the provider's first Nix call that builds.
    void checkNixCanBuild();

private:
    struct Closure {
        std::vector<std::string> paths;
        std::string source;  // "2 packages", "the devShell of /repo/flake.nix (3 packages)"
        uint64_t bytes = 0;  // 0: unknown
        bool remembered = true;  // no Nix call was needed (everything came from the memo)
        bool resolved_packages = false;  // some came from config_.nixpkgs
        std::string nixpkgs_identity;    // its identity then (empty: unknown)
    };
    // Declared packages, else the local devShell, else the label's default set; plus the extras.
    Closure closureOf(const RootRequest& request);
    // The closure of `base` (store paths; `base_remembered`: found without Nix) and the packages
    // `declared` and `extra` (added for the job, named after `source`). Holds mu_.
    Closure closureOf(std::vector<std::string> base, bool base_remembered,
                      const std::vector<std::string>& declared,
                      const std::vector<std::string>& extra, std::string source);
    // Store paths of `names`, remembered or from nix-build (`what` names them in the error when
    // there is no nixpkgs). Clears *remembered when Nix was asked; sets *identity_key to the
    // nixpkgs' identity when there were names. Holds mu_.
    std::vector<std::string> resolve(const std::vector<std::string>& names, const std::string& what,
                                     bool* remembered, std::string* identity_key);
    // Before the first Nix call that builds: a Nix that cannot build here says why once, clearly.
    void ensureNixCanBuild();
    // nullopt: the commit has no flake.nix.
    std::optional<Closure> repositoryDevShell(const RepositoryAtCommit& repo,
                                              const CheckoutProvider& checkouts,
                                              const RootRequest& request,
                                              const std::filesystem::path& dst);
    // `shared`: RootRequest::shared.
    std::unique_ptr<JobRoot> rootOf(Closure closure, const std::filesystem::path& dst, bool shared,
                                    std::chrono::steady_clock::time_point start);

    NixRootConfig config_;
    std::unique_ptr<cache::Storage> storage_;
    std::mutex mu_;  // the reference source and the Nix check have no locks of their own
    bool nix_can_build_ = false;
    cache::PackageResolver resolver_;
    cache::DevShellResolver devshells_;
    cache::NixStoreReferenceSource references_;
    cache::ClosureMemo memo_;
    cache::RootCache roots_;
};

}  // namespace nixjail::runner::engine
