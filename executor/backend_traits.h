// What a backend is, fixed when it is made: the runner's job plan (runner/job/job_plan.h) reads
// these once and decides from them how to build each job, instead of asking the executor.
#pragma once

#include <sys/types.h>

#include <optional>

namespace nixjail::executor {

// Who the runner must make files that steps write (workspace, command files) belong to.
struct StepOwner {
    uid_t uid;
    gid_t gid;
};

struct BackendTraits {
    // Steps see the job's directories at fixed jail paths (/workspace, /runner/temp, ...) bound
    // from wherever they are on the host; false: every BindMount has host == jail.
    bool remaps_paths = false;
    // Steps see only the root the runner prepared (JailSpec::root), built from Nix packages;
    // false: they see the host's own programs.
    bool needs_root = false;
    enum class Network {
        kHost,          // the host's network, no proxy (the host backend: debugging only)
        kOwnNamespace,  // steps join JailSpec::netns_fd, whose only way out is the job's proxy
        kLoopbackOnly,  // the sandbox lets steps reach only 127.0.0.1:JailSpec::proxy_port
    };
    Network network = Network::kHost;
    // nullopt: steps run as the runner's own user.
    std::optional<StepOwner> step_owner;
    // A step may be given the caller's stdin/stdout/stderr or a terminal (StepInvocation::stdio):
    // what `shell` and --break-on-failure need.
    bool attaches_stdio = false;
    // A step may carry a prelude (StepInvocation::prelude): a program run first in the step's own
    // jail, under its limits, the step starting only if its verdict admits it.
    bool runs_preludes = false;
    // The jail mounts a writable layer of its own over JailSpec::root and never writes the root
    // itself: jobs may share one root that nothing writes (the cached one, not a copy per job).
    bool overlays_root = false;
    // A step may carry a detached mount (StepInvocation::files_mount) its jail attaches in its
    // own mount namespace: the step's command files then live in memory, not in the job's temp
    // directory on the host's disk.
    bool mounts_detached = false;
};

}  // namespace nixjail::executor
