// The job plan: the executor's traits and the job's policy into the decisions the job runs by.
#include "runner/job/job_plan.h"

#include <fmt/format.h>

namespace nixjail::runner::job {

JobPlan planJob(const std::string& backend, const executor::BackendTraits& traits,
                const JobPolicy& policy) {
    using Network = executor::BackendTraits::Network;
    JobPlan plan;
    plan.backend = backend;
    if (traits.remaps_paths) {
        plan.jail_paths = JobPaths{.workspace = "/workspace",
                                   .temp = "/runner/temp",
                                   .home = "/home/runner",
                                   .tool_cache = "/runner/tool_cache",
                                   .actions = "/runner/actions"};
    }
    plan.judge_paths_on_host = !traits.remaps_paths;
    if (traits.needs_root) {
        plan.root = JobPlan::Root::kNixRoot;
        plan.node_in_root = true;
        plan.jitless_node = policy.profile == executor::HardeningProfile::kStrict;
        plan.job_dirs_on_cache_fs = true;
    }
    plan.pass_terminal = !traits.needs_root;
    switch (traits.network) {
        case Network::kHost:
            plan.network = JobPlan::Network::kHost;
            break;
        case Network::kOwnNamespace:
            plan.network = JobPlan::Network::kNamespaceProxy;
            break;
        case Network::kLoopbackOnly:
            plan.network = JobPlan::Network::kLoopbackProxy;
            break;
    }
    plan.credentials_as_dummies = plan.proxied();
    plan.check_jail = traits.network == Network::kOwnNamespace;
    plan.check_jail_in_first_step = plan.check_jail && traits.runs_preludes;
    plan.shared_root = plan.root == JobPlan::Root::kNixRoot && traits.overlays_root;
    plan.step_files_in_memory = traits.mounts_detached;
    plan.step_owner = traits.step_owner;
    plan.disk_volume_bytes = policy.disk_max_bytes;
    plan.profile = policy.profile;
    return plan;
}

std::string describePlan(const JobPlan& p) {
    auto yes = [](bool b) { return b ? "yes" : "no"; };
    std::string out = "backend: " + p.backend + "\n";
    if (p.jail_paths) {
        const auto& j = *p.jail_paths;
        out += fmt::format("paths: remapped (workspace {}, temp {}, home {}, tool_cache {}, actions {})\n",
                           j.workspace.string(), j.temp.string(), j.home.string(),
                           j.tool_cache.string(), j.actions.string());
    } else {
        out += "paths: host paths\n";
    }
    out += std::string("root: ") + (p.root == JobPlan::Root::kNixRoot ? "nix root from the job's packages" : "host programs, runner's PATH") + "\n";
    out += fmt::format("node in root: {}\njitless node: {}\n", yes(p.node_in_root), yes(p.jitless_node));
    const char* network = p.network == JobPlan::Network::kNamespaceProxy ? "own namespace, proxy inside"
                          : p.network == JobPlan::Network::kLoopbackProxy ? "proxy on loopback, sandbox allows its port"
                                                                          : "host network, no proxy";
    out += std::string("network: ") + network + "\n";
    out += fmt::format("credentials as dummies: {}\npass TERM: {}\njudge paths on host: {}\n",
                       yes(p.credentials_as_dummies), yes(p.pass_terminal), yes(p.judge_paths_on_host));
    out += fmt::format("job dirs on cache filesystem: {}\n", yes(p.job_dirs_on_cache_fs));
    out += fmt::format("jail self-check before the first step: {}\n",
                       !p.check_jail                 ? "no"
                       : p.check_jail_in_first_step ? "yes, as its prelude in its own jail"
                                                    : "yes, in a jail run of its own");
    out += fmt::format("root shared, not copied per job (no services): {}\n", yes(p.shared_root));
    out += fmt::format("step files in a tmpfs of the step's own: {}\n", yes(p.step_files_in_memory));
    out += p.step_owner ? fmt::format("step owner: {}:{}\n", p.step_owner->uid, p.step_owner->gid)
                        : std::string("step owner: the runner\n");
    out += p.disk_volume_bytes ? fmt::format("disk volume: {} MiB\n", p.disk_volume_bytes >> 20)
                               : std::string("disk volume: none\n");
    out += std::string("profile: ") + (p.profile == executor::HardeningProfile::kStrict ? "strict" : "default") + "\n";
    return out;
}

}  // namespace nixjail::runner::job
