// CachedCheckouts over workspace-cache's GitMirrors and CheckoutCache.
#include "runner/base/error.h"
#include "runner/base/secret.h"
#include "runner/engine/checkout_provider.h"
#include "workspace-cache/checkout_cache.h"
#include "workspace-cache/git_mirror.h"
#include "workspace-cache/storage.h"

namespace nixjail::runner::engine {

namespace fs = std::filesystem;

namespace {

class CachedLease : public CheckoutLease {
public:
    CachedLease(cache::CheckoutResult r, const std::string& url) : result_(std::move(r)) {
        for (const auto& s : result_.submodules) {
            submodules_.push_back({s.path, cache::resolveSubmoduleUrl(url, s.url), s.commit});
        }
    }
    const std::string& commit() const override { return result_.commit; }
    bool cacheHit() const override { return result_.hit; }
    const std::vector<SubmoduleRef>& submodules() const override { return submodules_; }
    void abandon() override { result_.workspace.disown(); }

private:
    cache::CheckoutResult result_;
    std::vector<SubmoduleRef> submodules_;
};

fs::path made(const fs::path& p) {
    fs::create_directories(p);
    return p;
}

}  // namespace

struct CachedCheckouts::Impl {
    Impl(const fs::path& dir, std::optional<cache::StorageKind> kind)
        : storage(cache::openStorage(made(dir / "checkouts"), kind)),
          mirrors(made(dir / "git")),
          checkouts(*storage, dir / "checkouts", mirrors) {}
    std::unique_ptr<cache::Storage> storage;
    cache::GitMirrors mirrors;
    cache::CheckoutCache checkouts;
};

CachedCheckouts::CachedCheckouts(const fs::path& cache_dir,
                                 std::optional<cache::StorageKind> storage)
    : impl_(std::make_unique<Impl>(cache_dir, storage)) {}
CachedCheckouts::~CachedCheckouts() = default;

std::unique_ptr<CheckoutLease> CachedCheckouts::checkout(const CheckoutSpec& spec, const fs::path& dst) {
    cache::CheckoutRequest req;
    req.url = spec.url;
    req.rev = spec.rev;
    req.sparse_paths = spec.sparse_paths;
    req.sparse_mode = spec.sparse_cone ? cache::SparseMode::kCone : cache::SparseMode::kPatterns;
    req.git_dir = spec.git_dir;
    req.list_submodules = spec.list_submodules;
    if (spec.token && !spec.token->empty()) req.credentials = cache::GitCredentials{"x-access-token", base::Secret(*spec.token)};
    if (!spec.rev.empty()) return std::make_unique<CachedLease>(impl_->checkouts.checkout(req, dst), spec.url);
    // No ref: the remote's default branch. Mirrors do not record the remote HEAD yet, so try the
    // usual default names and say so when none exists.
    for (const char* rev : {"main", "master"}) {
        req.rev = rev;
        if (impl_->mirrors.resolve(req.url, rev) || (impl_->mirrors.fetch(req.url, req.credentials), impl_->mirrors.resolve(req.url, rev))) {
            return std::make_unique<CachedLease>(impl_->checkouts.checkout(req, dst), spec.url);
        }
    }
    throw base::Error("'" + spec.url + "' has neither a 'main' nor a 'master' branch; give actions/checkout a 'ref'");
}

}  // namespace nixjail::runner::engine
