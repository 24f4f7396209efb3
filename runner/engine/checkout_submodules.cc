// actions/checkout with `submodules: true|recursive`: each submodule is checked out at its
// gitlink commit through the same checkout cache (and mirror) as any repository, with the
// parent's token, into the path the superproject reserves for it.
#include <filesystem>

#include "runner/base/beneath.h"
#include "runner/base/error.h"
#include "runner/engine/step_parts.h"

namespace nixjail::runner::engine {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxSubmoduleDepth = 8;  // a cycle of submodules must not recurse forever

// "https://forge.test:3000/org/repo" -> "https://forge.test:3000": the token only goes where the
// superproject's came from, never to a submodule hosted elsewhere.
std::string origin(const std::string& url) {
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return url;
    return url.substr(0, url.find('/', scheme + 3));
}

}  // namespace

void ActionStep::checkoutSubmodules(const CheckoutLease& parent, const CheckoutSpec& parentSpec,
                                const fs::path& dest, const std::string& shown, bool recursive,
                                int depth) {
    if (depth > kMaxSubmoduleDepth) {
        throw base::Error("actions/checkout: submodules nest deeper than " +
                          std::to_string(kMaxSubmoduleDepth) + " levels under '" + shown +
                          "'; is there a cycle?");
    }
    for (const auto& sub : parent.submodules()) {
        const fs::path rel = fs::path(sub.path).lexically_normal();
        if (rel.empty() || rel.is_absolute() || *rel.begin() == "..") {
            throw base::Error("actions/checkout: submodule path '" + sub.path + "' leaves '" +
                              shown + "'");
        }
        // The superproject's tree may hold a link where the submodule's parent directory is.
        const fs::path target = base::plainPathBeneath(dest, rel.string(), "submodule path");
        const std::string targetShown = (fs::path(shown) / rel).string();
        // The superproject's checkout leaves an empty directory (or nothing, when sparse) there.
        if (fs::exists(fs::symlink_status(target))) {
            if (!fs::is_directory(fs::symlink_status(target)) || !fs::is_empty(target)) {
                throw base::Error("actions/checkout: submodule path '" + targetShown +
                                  "' is not empty");
            }
            fs::remove(target);
        }
        fs::create_directories(target.parent_path());
        CheckoutSpec spec;
        spec.url = sub.url;
        spec.rev = sub.commit;
        if (origin(sub.url) == origin(parentSpec.url)) spec.token = parentSpec.token;
        // A submodule is a repository at its recorded commit, as deep as the superproject's
        // (git submodule update --depth), detached, with its own URL as origin.
        if (parentSpec.git_dir) {
            spec.git_dir = cache::GitDirRequest{.depth = parentSpec.git_dir->depth};
        }
        spec.list_submodules = recursive;
        auto lease = job_.opts.checkout_provider(spec, target);
        job_.log(LineKind::kRunner,
            "Checked out submodule " + sub.path + " (" + sub.url + ") at " + lease->commit() +
                " (" + (lease->cacheHit() ? "cached" : "fetched") + ") to '" + targetShown + "'");
        if (recursive) checkoutSubmodules(*lease, spec, target, targetShown, true, depth + 1);
        job_.sandbox->keepCheckout(std::move(lease), target);
    }
}

}  // namespace nixjail::runner::engine
