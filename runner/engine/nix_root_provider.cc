// Building job roots from Nix closures.
#include "runner/engine/nix_root_provider.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/engine/nixpkgs_identity.h"
#include "workspace-cache/nix_preflight.h"
#include "workspace-cache/overlay_root.h"

namespace nixjail::runner::engine {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

// The job's writable tree over the cached root: an overlay (constant time on every filesystem),
// else the storage's snapshot, reflinked or plain copy. Where no overlay can be mounted (no root,
// a cached root on an overlay already, an upper filesystem overlayfs refuses), the snapshot.
std::unique_ptr<cache::OverlayRoot> overlayOver(const cache::RootLease& lease, const fs::path& dst) {
    if (!cache::OverlayRoot::unavailableReason().empty() ||
        !cache::OverlayRoot::unsuitableLower(lease.root()).empty())
        return nullptr;
    try {
        return std::make_unique<cache::OverlayRoot>(lease.root(), dst);
    } catch (const base::Error&) {
        return nullptr;
    }
}

// A jail's set-up runs as its unprivileged host ids, which reach a shared root only if they may
// traverse every directory above it (a cache below a 0700 home, say); else the job gets its tree.
bool reachableByJails(const cache::RootLease& lease) {
    return base::firstNotSearchableByOthers(lease.root()).empty();
}

class NixJobRoot : public JobRoot {
public:
    // `shared`: the cached root itself (RootRequest::shared) where jails reach it, nothing made
    // at `dst`.
    NixJobRoot(cache::RootLease lease, const fs::path& dst, bool shared, Timings timings,
               Clock::time_point prepareStart, std::string source, RootOrigin origin)
        : lease_(std::move(lease)),
          shared_(shared && reachableByJails(lease_)),
          overlay_(shared_ ? nullptr : overlayOver(lease_, dst)),
          snapshot_(shared_ || overlay_ ? cache::SubvolumeLease() : lease_.snapshotTo(dst)),
          root_(shared_ ? lease_.root() : dst),
          timings_(timings),
          source_(std::move(source)),
          origin_(std::move(origin)) {
        timings_.root_prepare = since(prepareStart);
        origin_.closure_key = lease_.key();
    }
    const fs::path& root() const override { return root_; }
    std::string binPath() const override { return lease_.binPath(); }
    bool cacheHit() const override { return lease_.hit(); }
    Timings timings() const override { return timings_; }
    std::string source() const override { return source_; }
    RootOrigin origin() const override { return origin_; }

private:
    cache::RootLease lease_;                       // pins the cached root while the job runs
    bool shared_;                                  // the job uses it in place
    std::unique_ptr<cache::OverlayRoot> overlay_;  // the job's tree over it, or
    cache::SubvolumeLease snapshot_;               // the job's copy; either removed with the job;
                                                   // neither for a shared root
    fs::path root_;
    Timings timings_;
    std::string source_;
    RootOrigin origin_;
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
      memo_(config_.cache_dir / "closures"),
      roots_(*storage_, config_.cache_dir / "roots") {}

void NixRootProvider::ensureNixCanBuild() {
    if (nix_can_build_) return;
    cache::checkNixCanBuild(config_.tools);
    nix_can_build_ = true;
}

void NixRootProvider::checkNixCanBuild() {
    std::lock_guard lock(mu_);
    ensureNixCanBuild();
}

std::vector<std::string> NixRootProvider::resolve(const std::vector<std::string>& names,
                                                  const std::string& what, bool* remembered,
                                                  std::string* identity_key) {
    if (names.empty()) return {};
    if (config_.nixpkgs.empty()) {
        throw base::Error("the job needs " + what +
                          " but no nixpkgs was found to build them from; give one with --nixpkgs or "
                          "NIX_PATH=nixpkgs=... (daemon: nix.nixpkgs in the runner config)");
    }
    const auto identity = identifyNixpkgs(config_.nixpkgs.string(), config_.tools);
    *identity_key = identity.key;
    if (!identity.key.empty()) {
        if (auto paths = memo_.packages(identity.key, names, identity.max_age)) return *paths;
    }
    *remembered = false;
    ensureNixCanBuild();
    auto paths = resolver_.resolvePackages(names);
    if (!identity.key.empty()) memo_.rememberPackages(identity.key, names, paths);
    return paths;
}

NixRootProvider::Closure NixRootProvider::closureOf(std::vector<std::string> base,
                                                    bool base_remembered,
                                                    const std::vector<std::string>& declared,
                                                    const std::vector<std::string>& extra,
                                                    std::string source) {
    if (!extra.empty()) source += fmt::format(", plus {}", fmt::join(extra, " "));
    Closure closure{.source = std::move(source), .remembered = base_remembered};
    auto what = [](const std::vector<std::string>& names) {
        return fmt::format("the packages {}", fmt::join(names, " "));
    };
    std::vector<std::string> names = declared;
    for (const auto& p : extra)
        if (std::find(names.begin(), names.end(), p) == names.end()) names.push_back(p);
    std::vector<std::string> paths;
    try {
        // One nix-build for all.
        paths = resolve(names, what(names), &closure.remembered, &closure.nixpkgs_identity);
    } catch (const base::Error&) {
        // When only the packages added for the job (nodejs for its actions) fail, say so alone.
        if (declared.empty() || extra.empty()) throw;
        bool ignored = true;
        std::string unused;
        resolve(declared, what(declared), &ignored, &unused);
        resolve(extra, what(extra), &ignored, &unused);
        throw;
    }
    closure.resolved_packages = !names.empty();
    for (auto& p : paths) base.push_back(std::move(p));
    if (auto facts = memo_.closure(base)) {
        closure.paths = std::move(facts->paths);
        closure.bytes = facts->bytes;
        return closure;
    }
    closure.remembered = false;
    references_.prefetch(base);  // one query for every root
    closure.paths = cache::computeClosure(base, references_);
    try {
        closure.bytes = references_.totalSize(closure.paths);
    } catch (const base::Error&) {
        // Only a figure for the job's record and the metrics: left at 0 (unknown), the job runs.
    }
    memo_.rememberClosure(base, {closure.paths, closure.bytes});
    return closure;
}

NixRootProvider::Closure NixRootProvider::closureOf(const RootRequest& request) {
    std::lock_guard lock(mu_);
    const auto& packages = request.packages;
    if (!packages.empty()) {
        return closureOf({}, true, packages, request.extra,
                         std::to_string(packages.size()) + " packages");
    }
    if (config_.devshell_flake) {
        const auto system = cache::DevShellResolver::currentSystem();
        const auto& flake = *config_.devshell_flake;
        auto shell = devshells_.remembered(fs::absolute(flake).lexically_normal().string(), system);
        const bool remembered = shell.has_value();
        if (!shell) {
            ensureNixCanBuild();
            shell = devshells_.resolve(flake, system);
        }
        return closureOf(*shell, remembered, {}, request.extra,
                         "the devShell of " + (flake / "flake.nix").string() + " (" +
                             std::to_string(shell->size()) + " packages)");
    }
    if (const auto choice = config_.default_packages.choose(request.labels)) {
        return closureOf({}, true, choice->packages, request.extra, describeChoice(*choice));
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
    const bool remembered = shell.has_value();
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
    return closureOf(*shell, remembered, {}, request.extra,
                     "the devShell of flake.nix in " + repo.url + " at " + repo.commit.substr(0, 12) +
                         " (" + std::to_string(shell->size()) + " packages)");
}

RootProvider NixRootProvider::forRepository(RepositoryAtCommit repo, CheckoutProvider checkouts) {
    return [this, repo = std::move(repo), checkouts = std::move(checkouts)](
               const RootRequest& request, const fs::path& dst) -> std::unique_ptr<JobRoot> {
        if (!request.packages.empty() || config_.devshell_flake) return provide(request, dst);
        const auto start = Clock::now();
        auto closure = repositoryDevShell(repo, checkouts, request, dst);
        if (!closure) return provide(request, dst);  // no flake.nix: the label's default set
        return rootOf(std::move(*closure), dst, request.shared, start);
    };
}

RootProvider NixRootProvider::forTask(const nlohmann::json& github, CheckoutProvider checkouts) {
    auto repo = repositoryOfTask(github);
    if (!repo) return asProvider();
    return forRepository(std::move(*repo), std::move(checkouts));
}

std::unique_ptr<JobRoot> NixRootProvider::provide(const RootRequest& request, const fs::path& dst) {
    const auto start = Clock::now();
    return rootOf(closureOf(request), dst, request.shared, start);
}

std::unique_ptr<JobRoot> NixRootProvider::rootOf(Closure closure, const fs::path& dst, bool shared,
                                                 Clock::time_point start) {
    JobRoot::Timings timings;
    timings.closure_paths = closure.paths.size();
    timings.closure_bytes = closure.bytes;
    timings.closure_remembered = closure.remembered;
    timings.closure_resolution = since(start);
    const auto prepareStart = Clock::now();
    RootOrigin origin;
    if (closure.resolved_packages) {
        origin.nixpkgs = config_.nixpkgs.string();
        origin.nixpkgs_identity = std::move(closure.nixpkgs_identity);
    }
    return std::make_unique<NixJobRoot>(roots_.acquire(closure.paths), dst, shared, timings,
                                        prepareStart, std::move(closure.source), std::move(origin));
}

NixRootProvider::WarmResult NixRootProvider::warm(const std::vector<std::string>& packages) {
    if (packages.empty()) throw base::Error("no packages to warm a root for");
    auto closure = closureOf(RootRequest{.packages = packages});
    auto lease = roots_.acquire(closure.paths);
    return {lease.key(), closure.paths.size(), lease.hit()};
}

}  // namespace nixjail::runner::engine
