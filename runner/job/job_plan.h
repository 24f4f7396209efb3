// JobPlan: how one job is built on this runner, decided once, in pure code, from the job's policy
// and the executor's static traits (executor/backend_traits.h). Everything that used to ask the
// executor what it is reads the plan instead: whether jail paths are remapped, whether a Nix root
// is built (and node added to it), how the job reaches the network and whether its credentials
// become dummies, whether $TERM and $PATH come from the runner, who owns the job's files.
// Golden-tested per backend and policy (testdata/).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "executor/backend_traits.h"
#include "executor/executor.h"

namespace nixjail::runner::job {

// What the runner's configuration decides for a job (the daemon per label).
struct JobPolicy {
    executor::HardeningProfile profile = executor::HardeningProfile::kDefault;
    std::uint64_t disk_max_bytes = 0;  // the job's own volume; 0: none
};

// Where steps see the job's directories.
struct JobPaths {
    std::filesystem::path workspace, temp, home, tool_cache, actions;
};

struct JobPlan {
    std::string backend;  // for messages
    // Steps see the job's directories at the fixed jail paths; nullopt: at their host paths.
    std::optional<JobPaths> jail_paths;
    enum class Root {
        kHost,    // steps run the host's programs with the runner's PATH
        kNixRoot  // a root built from the job's packages; its bin directories are the PATH
    };
    Root root = Root::kHost;
    // A job with JavaScript actions gets the node package added to its root.
    bool node_in_root = false;
    // The strict profile forbids writable+executable memory, so node runs --jitless.
    bool jitless_node = false;
    enum class Network {
        kHost,            // the host's network, no proxy, no policy (debugging only)
        kNamespaceProxy,  // a network namespace of the job's own; its proxy is the only way out
        kLoopbackProxy,   // the proxy on the host's loopback; the sandbox allows only its port
    };
    Network network = Network::kHost;
    // Credentials (the forge token, the admin's) are injected by the proxy; steps see dummies.
    bool credentials_as_dummies = false;
    // $TERM reaches steps (they run on the host's terminfo).
    bool pass_terminal = true;
    // A working-directory that does not exist is judged on the host as it is; otherwise only
    // below the workspace (the rest is the jail's to judge).
    bool judge_paths_on_host = true;
    // The jobs' directories go on the cache's filesystem, so roots and checkouts are snapshots.
    bool job_dirs_on_cache_fs = false;
    // Before the first step, the runner checks from inside the jail that it keeps its promises
    // (runner/engine/jail_self_check.h): the Linux jails, whose network namespace is their own.
    bool check_jail = false;
    // ... as the prelude of the first step, in that step's own jail (BackendTraits::runs_preludes);
    // false: a jail run of its own before it.
    bool check_jail_in_first_step = false;
    // The job's root is the cached root itself, pinned, not a tree of the job's own over it: the
    // jail overlays it (BackendTraits::overlays_root). A job with services still gets its own
    // tree, since their names are written into its /etc/hosts.
    bool shared_root = false;
    // Each step's command files and script are in a tmpfs of the step's own that only its jail
    // mounts, at $RUNNER_TEMP/_runner_file_commands (BackendTraits::mounts_detached); false: in
    // the job's temp directory on the host's disk.
    bool step_files_in_memory = false;
    std::optional<executor::StepOwner> step_owner;  // who owns the job's files; nullopt: the runner
    std::uint64_t disk_volume_bytes = 0;             // 0: no volume of its own
    executor::HardeningProfile profile = executor::HardeningProfile::kDefault;

    bool proxied() const { return network != Network::kHost; }
};

JobPlan planJob(const std::string& backend, const executor::BackendTraits& traits,
                const JobPolicy& policy);

// The plan as text, one decision a line, for golden files and debug logs.
std::string describePlan(const JobPlan& plan);

}  // namespace nixjail::runner::job
