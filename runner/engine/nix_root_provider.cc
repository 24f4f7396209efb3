// Building job roots from Nix closures.
#include "runner/engine/nix_root_provider.h"

#include "runner/base/error.h"

namespace nixjail::runner::engine {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

class NixJobRoot : public JobRoot {
public:
    NixJobRoot(cache::RootLease lease, const fs::path& dst, Timings timings, Clock::time_point prepareStart,
               std::string source)
        : lease_(std::move(lease)),
          snapshot_(lease_.snapshotTo(dst)),
          root_(dst),
          timings_(timings),
          source_(std::move(source)) {
        timings_.root_prepare = since(prepareStart);
    }
    const fs::path& root() const override { return root_; }
    std::string binPath() const override { return lease_.binPath(); }
    bool cacheHit() const override { return lease_.hit(); }
    Timings timings() const override { return timings_; }
    std::string source() const override { return source_; }

private:
    cache::RootLease lease_;           // pins the cached root while the job runs
    cache::SubvolumeLease snapshot_;   // the job's copy, removed with the job
    fs::path root_;
    Timings timings_;
    std::string source_;
};

fs::path rootsDir(const fs::path& cacheDir) {
    fs::create_directories(cacheDir / "roots");
    return cacheDir / "roots";
}

}  // namespace

NixRootProvider::NixRootProvider(NixRootConfig config)
    : config_(std::move(config)),
      storage_(cache::openStorage(rootsDir(config_.cache_dir), config_.storage)),
      resolver_(config_.nixpkgs, config_.tools),
      devshells_(config_.tools),
      references_(config_.tools),
      roots_(*storage_, config_.cache_dir / "roots") {}

std::vector<std::string> NixRootProvider::resolve(const std::vector<std::string>& packages,
                                                  const std::string& what) {
    if (config_.nixpkgs.empty()) {
        throw base::Error("the job needs " + what +
                          " but no nixpkgs was found to build them from; give one with --nixpkgs or "
                          "NIX_PATH=nixpkgs=... (daemon: nix.nixpkgs in the runner config)");
    }
    return resolver_.resolvePackages(packages);
}

NixRootProvider::Closure NixRootProvider::withExtra(std::vector<std::string> base, std::string source,
                                                    const RootRequest& request) {
    if (!request.extra.empty()) {
        std::string names;
        for (const auto& p : request.extra) names += (names.empty() ? "" : " ") + p;
        for (auto& p : resolve(request.extra, "the packages " + names)) base.push_back(std::move(p));
        source += ", plus " + names;
    }
    return {cache::computeClosure(base, references_), std::move(source)};
}

NixRootProvider::Closure NixRootProvider::closureOf(const RootRequest& request) {
    std::lock_guard lock(mu_);
    const auto& packages = request.packages;
    if (!packages.empty()) {
        return withExtra(resolve(packages, "its declared packages"),
                         std::to_string(packages.size()) + " packages", request);
    }
    if (config_.devshell_flake) {
        const auto shell = devshells_.resolve(*config_.devshell_flake, cache::DevShellResolver::currentSystem());
        return withExtra(shell,
                         "the devShell of " + (*config_.devshell_flake / "flake.nix").string() + " (" +
                             std::to_string(shell.size()) + " packages)",
                         request);
    }
    if (const auto choice = config_.default_packages.choose(request.labels)) {
        return withExtra(resolve(choice->packages, describeChoice(*choice)), describeChoice(*choice),
                         request);
    }
    throw base::Error(DefaultPackages::noDefaultMessage(request.labels));
}

std::optional<NixRootProvider::Closure> NixRootProvider::repositoryDevShell(
    const RepositoryAtCommit& repo, const CheckoutProvider& checkouts, const RootRequest& request,
    const fs::path& dst) {
    const std::string system = cache::DevShellResolver::currentSystem();
    const std::string key =
        repo.url + '@' + repo.commit;  // a commit fixes flake.nix and flake.lock
    auto shell = devshells_.remembered(key, system);
    if (!shell) {
        // Next to the job's root, inside the job's directory; removed once resolved.
        const fs::path flake = dst.parent_path() / (dst.filename().string() + "-flake");
        auto lease = checkOutFlake(checkouts, repo, flake);
        if (!lease) return std::nullopt;
        try {
            shell = devshells_.resolve(flake, system, key);
        } catch (const base::Error& e) {
            throw base::Error("the devShell of flake.nix in '" + repo.url + "' at " + repo.commit +
                              ": " + e.what());
        }
    }
    std::lock_guard lock(mu_);
    return withExtra(*shell,
                     "the devShell of flake.nix in " + repo.url + " at " + repo.commit.substr(0, 12) +
                         " (" + std::to_string(shell->size()) + " packages)",
                     request);
}

RootProvider NixRootProvider::forRepository(RepositoryAtCommit repo, CheckoutProvider checkouts) {
    return [this, repo = std::move(repo), checkouts = std::move(checkouts)](
               const RootRequest& request, const fs::path& dst) -> std::unique_ptr<JobRoot> {
        if (!request.packages.empty() || config_.devshell_flake) return provide(request, dst);
        const auto start = Clock::now();
        auto closure = repositoryDevShell(repo, checkouts, request, dst);
        if (!closure) return provide(request, dst);  // no flake.nix: the label's default set
        return rootOf(std::move(*closure), dst, start);
    };
}

RootProvider NixRootProvider::forTask(const nlohmann::json& github, CheckoutProvider checkouts) {
    auto repo = repositoryOfTask(github);
    if (!repo) return asProvider();
    return forRepository(std::move(*repo), std::move(checkouts));
}

std::unique_ptr<JobRoot> NixRootProvider::provide(const RootRequest& request, const fs::path& dst) {
    const auto start = Clock::now();
    return rootOf(closureOf(request), dst, start);
}

std::unique_ptr<JobRoot> NixRootProvider::rootOf(Closure closure, const fs::path& dst,
                                                 Clock::time_point start) {
    JobRoot::Timings timings;
    timings.closure_paths = closure.paths.size();
    try {
        timings.closure_bytes = references_.totalSize(closure.paths);
    } catch (const base::Error&) {
        // Only a figure for the job's record and the metrics: left at 0 (unknown), the job runs.
    }
    timings.closure_resolution = since(start);
    const auto prepareStart = Clock::now();
    return std::make_unique<NixJobRoot>(roots_.acquire(closure.paths), dst, timings, prepareStart,
                                        std::move(closure.source));
}

NixRootProvider::WarmResult NixRootProvider::warm(const std::vector<std::string>& packages) {
    if (packages.empty()) throw base::Error("no packages to warm a root for");
    auto closure = closureOf(RootRequest{.packages = packages});
    auto lease = roots_.acquire(closure.paths);
    return {lease.key(), closure.paths.size(), lease.hit()};
}

}  // namespace nixjail::runner::engine
