// Running one forge task: the single-job workflow in its payload through the engine, reported to
// the forge as it runs (TaskReporter) and recorded in the job database (JobRecorder).
#pragma once

#include <spdlog/logger.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <stop_token>
#include <string>

#include "executor/executor.h"
#include "runner/config/runner_config.h"
#include "runner/daemon/metrics.h"
#include "runner/cache_server/cache_server.h"
#include "runner/engine/job_root.h"
#include "runner/engine/run_options.h"
#include "runner/forge/forge_client.h"
#include "runner/network/job_network.h"
#include "runner/store/job_store.h"

namespace nixjail::runner::daemon {

// What every job of the daemon shares; all of it outlives the jobs.
struct JobResources {
    const config::RunnerConfig* config = nullptr;
    forge::ForgeClient* client = nullptr;
    store::JobStore* store = nullptr;
    Metrics* metrics = nullptr;
    // What each job starts from (services::RunnerServices::jobDefaults): executor, root and
    // checkout providers, job directories, the network settings (admin policy, credentials,
    // upstream CA; the label's policy is added per job from label_policies), limits.
    engine::RunOptions job_defaults;
    // The root provider for one task, from its github context: a job that declares no packages
    // gets the devShell of the task repository's flake at the task's commit. Empty: the one in
    // job_defaults serves (or jobs run without a Nix root).
    std::function<engine::RootProvider(const nlohmann::json& github)> task_root_provider;
    std::map<std::string, proxy::Policy> label_policies;
    std::string forge_address;  // server_url when the task's context has none
    // The runner's actions/cache server, and its URL as jobs reach it (ACTIONS_CACHE_URL); null:
    // none. Each task's runtime token is authorised for its repository while the task runs.
    cache_server::CacheServer* actions_cache = nullptr;
    std::string actions_cache_url;
    std::shared_ptr<spdlog::logger> log;
    std::chrono::milliseconds flush_interval{1000};  // log/state upload and cancellation check
    // Called after each job has ended and reported (the daemon trims its caches to their budgets
    // there); must not throw.
    std::function<void()> after_job;
};

struct TaskResult {
    forge::Result result = forge::Result::Failure;
    bool reported = false;  // the forge took the final state
};

// Never throws: bad input and internal errors make a failed task with the reason in its log.
// `cancel`: the daemon's shutdown (after its grace period); `give_up`: stop retrying reports.
TaskResult runTask(const forge::Task& task, const JobResources& resources, std::stop_token cancel,
                   std::stop_token give_up);

}  // namespace nixjail::runner::daemon
