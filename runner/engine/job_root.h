// JobRoot: the root filesystem an isolating executor pivots into for one job, and what steps
// need to use it. Made by a RootProvider (nix_root_provider.h builds it from a Nix closure).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace nixjail::runner::engine {

// What a root was made from, so that the job can be run again on the same one (replay).
struct RootOrigin {
    std::string closure_key;  // cache::closureKey of its store paths; empty: not a Nix closure
    // The nixpkgs expression its packages were resolved in and identifyNixpkgs' key for it then;
    // both empty when no package was resolved (a devShell alone).
    std::string nixpkgs;
    std::string nixpkgs_identity;
};

class JobRoot {
public:
    virtual ~JobRoot() = default;
    // The job's own writable tree, or for a RootRequest::shared the cached root itself, which
    // nothing may write.
    virtual const std::filesystem::path& root() const = 0;
    virtual std::string binPath() const = 0;                // PATH inside the jail
    virtual bool cacheHit() const = 0;                      // the closure's root was cached

    // How long the provider spent on each part, for the job's phase records.
    struct Timings {
        std::chrono::milliseconds closure_resolution{0};  // package names -> closure
        std::chrono::milliseconds root_prepare{0};        // cached root (built on a miss) + job copy
        size_t closure_paths = 0;
        uint64_t closure_bytes = 0;  // the sum of the closure's store paths' sizes; 0: unknown
        bool closure_remembered = false;  // resolved from remembered answers, without Nix
    };
    virtual Timings timings() const = 0;
    virtual std::string source() const = 0;  // what the closure came from, for the job's log
    virtual RootOrigin origin() const { return {}; }
};

// What a job asks of its root.
struct RootRequest {
    // Declared (the runner's packages, a label's, the job's NIXJAIL_PACKAGES). When there are none
    // the provider picks a base: the repository flake's devShell, else the default set of the
    // first of `labels` that has one (default_packages.h), else it fails saying how to declare.
    std::vector<std::string> packages;
    std::vector<std::string> labels;  // the job's runs-on labels, expressions evaluated
    // Added to whatever base was picked (nodejs for JavaScript actions).
    std::vector<std::string> extra;
    // Nothing will write the root (the executor overlays it and the runner adds nothing to it):
    // a provider may hand out its cached root in place, pinned, and make nothing at `dst`.
    bool shared = false;
};

// Makes the root for `request` at `dst` (which must not exist); throws base::Error naming the
// package or path at fault.
using RootProvider = std::function<std::unique_ptr<JobRoot>(const RootRequest& request,
                                                            const std::filesystem::path& dst)>;

}  // namespace nixjail::runner::engine
