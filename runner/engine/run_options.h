// RunOptions: everything a workflow run needs from its caller (the exec command or the daemon).
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "executor/executor.h"
#include "runner/engine/checkout_provider.h"
#include "runner/engine/job_root.h"
#include "runner/engine/kept_job.h"
#include "runner/engine/service_images.h"
#include "runner/network/job_network.h"

namespace nixjail::runner::engine {

struct RunOptions {
    std::filesystem::path repo_dir;  // the working tree that actions/checkout provides in exec mode
    // exec: every job's workspace starts as a copy of repo_dir (as act and `forgejo-runner exec`
    // do), so local actions and hashFiles() work without actions/checkout. The daemon keeps
    // GitHub's rule: the workspace is empty until a checkout.
    bool workspace_from_repo = false;
    std::string event_name = "push";
    nlohmann::json event = nlohmann::json::object();  // the event payload (github.event)
    nlohmann::json github;  // github context fields known to the caller: repository, sha, ref, actor...
    std::map<std::string, std::string> inputs;   // workflow_dispatch inputs given by the user
    std::map<std::string, std::string> secrets;  // masked everywhere
    std::map<std::string, std::string> vars;
    std::vector<std::pair<std::string, std::string>> env;           // --env, applied as workflow env
    std::vector<std::pair<std::string, std::string>> matrix_filter;  // --matrix k:v
    std::string default_actions_url = "https://github.com";
    std::filesystem::path action_cache_dir;  // remote actions are fetched here
    std::filesystem::path work_dir;          // per-job directories are made here (empty: $TMPDIR)
    executor::Executor* executor = nullptr;
    // The static nixjail-jail-check program run in each job's jail before its first step
    // (JobPlan::check_jail); empty: the one beside the running executable.
    std::filesystem::path jail_check_program;
    // Isolating executors: the root of each job, from the packages given here plus the job's
    // NIXJAIL_PACKAGES variable (workflow or job env).
    RootProvider root_provider;
    // actions/checkout of repositories other than repo_dir (absent: such checkouts fail clearly).
    CheckoutProvider checkout_provider;
    std::vector<std::string> packages;
    // Isolating executors: the package added to the root of a job that uses JavaScript actions
    // (runs.using node12/16/20/24), found when the job starts; it must provide bin/node.
    std::string node_package = "nodejs";
    // Isolating executors: each job gets its own network namespace (runner/network/job_network.h)
    // whose only way out is its own proxy, applying these policy layers (admin, label, job; the
    // forge of github.server_url/api_url is always allowed, everything else unmatched is denied),
    // injecting these credentials (the job sees each dummy as secrets.<name>; their real values
    // are added to the job's SecretMasker) and trusting extra_upstream_ca_file. Every decision is
    // a line in the job log and a record in JobOutcome::network_audit. The host executor ignores
    // this: its steps use the host's network, without a proxy (debugging only).
    network::NetworkSettings network;
    executor::Limits limits;
    // The runner's own cap on a job (the daemon's runner.job_timeout): the job's deadline is the
    // earlier of this and its timeout-minutes, and the step running then is stopped as timed out
    // (StepRecord::timed_out), the job failing with "the job exceeded runner.job_timeout".
    std::optional<std::chrono::milliseconds> runner_job_timeout;
    executor::HardeningProfile profile = executor::HardeningProfile::kDefault;
    size_t max_parallel_jobs = 4;
    // How deep this run is in reusable workflow calls (0: the workflow exec or the forge chose).
    int call_depth = 0;
    std::string run_id = "1";
    std::string run_number = "1";
    std::vector<std::string> base_path = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                                          "/usr/bin", "/sbin", "/bin"};
    // exec --keep / --keep-failed: which jobs keep their jail after the run, handed to `keeper`
    // (isolating executors only; kept_job.h).
    // Not owned: the caller keeps it alive for as long as the jobs it adopts.
    KeepJob keep = KeepJob::kNever;
    JobKeeper* keeper = nullptr;
    // `services:` and `container:` images -> Nix packages (the admin's ahead of the built-in ones),
    // and how long a job waits for its services to be ready.
    ImageTable images = builtinImages();
    std::chrono::milliseconds services_ready_timeout{std::chrono::minutes(2)};
    // exec --break-on-failure: asked after each failed step what to do.
    OnStepFailure on_step_failure;
};

}  // namespace nixjail::runner::engine
