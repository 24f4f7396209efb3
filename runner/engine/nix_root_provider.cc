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
    NixJobRoot(cache::RootLease lease, const fs::path& dst, Timings timings, Clock::time_point prepareStart)
        : lease_(std::move(lease)), snapshot_(lease_.snapshotTo(dst)), root_(dst), timings_(timings) {
        timings_.root_prepare = since(prepareStart);
    }
    const fs::path& root() const override { return root_; }
    std::string binPath() const override { return lease_.binPath(); }
    bool cacheHit() const override { return lease_.hit(); }
    Timings timings() const override { return timings_; }

private:
    cache::RootLease lease_;           // pins the cached root while the job runs
    cache::SubvolumeLease snapshot_;   // the job's copy, removed with the job
    fs::path root_;
    Timings timings_;
};

fs::path rootsDir(const fs::path& cacheDir) {
    fs::create_directories(cacheDir / "roots");
    return cacheDir / "roots";
}

}  // namespace

NixRootProvider::NixRootProvider(NixRootConfig config)
    : config_(std::move(config)),
      storage_(cache::detectStorage(rootsDir(config_.cache_dir))),
      resolver_(config_.nixpkgs, config_.tools),
      references_(config_.tools),
      roots_(*storage_, config_.cache_dir / "roots") {}

std::vector<std::string> NixRootProvider::closureOf(const std::vector<std::string>& packages) {
    if (packages.empty()) {
        throw base::Error("the job declares no Nix packages, so its root would be empty; declare them with "
                          "--packages or the job's NIXJAIL_PACKAGES variable (at least a shell, e.g. bash)");
    }
    std::lock_guard lock(mu_);
    return cache::computeClosure(resolver_.resolvePackages(packages), references_);
}

std::unique_ptr<JobRoot> NixRootProvider::provide(const std::vector<std::string>& packages, const fs::path& dst) {
    JobRoot::Timings timings;
    const auto start = Clock::now();
    auto closure = closureOf(packages);
    timings.closure_resolution = since(start);
    timings.closure_paths = closure.size();
    const auto prepareStart = Clock::now();
    return std::make_unique<NixJobRoot>(roots_.acquire(closure), dst, timings, prepareStart);
}

NixRootProvider::WarmResult NixRootProvider::warm(const std::vector<std::string>& packages) {
    auto closure = closureOf(packages);
    auto lease = roots_.acquire(closure);
    return {lease.key(), closure.size(), lease.hit()};
}

}  // namespace nixjail::runner::engine
