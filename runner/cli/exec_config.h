// `exec`'s flags, and how they fill the runner's one configuration schema (runner/config): flags
// override the saved defaults (saved_defaults.h), which override the built-in ones. What is not
// configuration (which workflows and jobs, the event, inputs, secrets) stays in ExecFlags.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "runner/cli/saved_defaults.h"
#include "runner/config/runner_config.h"

namespace nixjail::runner::cli {

struct ExecFlags {
    std::string workflows;
    std::string directory = ".";
    std::vector<std::string> jobs;
    std::string event;
    std::string event_path;
    std::vector<std::string> inputs, secrets, secret_files, vars, envs, matrix;
    std::string json_summary;
    bool list = false;
    bool dry_run = false;
    std::string executor;  // empty: saved default, else auto
    std::string profile;   // empty: saved default, else default
    bool network_audit = false;
    std::string packages;
    std::string nixpkgs;
    std::string cache_dir;
    std::string storage = "auto";  // the cache's storage backend (roots and checkouts)
    std::string disk;              // each job's workspace quota; empty: none
    std::string server_url;
    std::string default_actions_url = "https://github.com";
    std::string action_cache_dir;
    std::string cache_server_dir;
    bool no_cache_server = false;
    std::string artifact_server_path;
    std::string artifact_server_budget = "10G";  // the most bytes of artifacts one run keeps
    size_t max_parallel = 0;
    bool no_color = false;
    bool verbose = false;
    std::string policy;
    std::string credential_file;
    std::string extra_ca_file;
    std::vector<std::string> host_overrides;
    std::vector<std::string> secret_hosts;  // NAME=HOST[,HOST...]
    std::vector<std::string> secret_in_bodies;  // NAME, bound by secret_hosts
    bool repository_policy = false;  // read the working tree's .nixjail-network.yaml
    bool keep = false;               // every job keeps its jail for `shell`
    bool keep_failed = false;        // failed jobs keep their jail for `shell`
    std::string keep_budget;         // the kept jobs' size budget; empty: cache.workspace_budget
    bool break_on_failure = false;   // a shell at a failed step, then retry/continue/ignore/abort
    std::string service_images;      // a YAML file with `services:` and `container:` as in the config
};

// What the command line left out, from the saved defaults, then built in.
ExecFlags withSavedDefaults(ExecFlags flags, const SavedDefaults& saved);

// The configuration `flags` (already withSavedDefaults) and `saved` describe. Throws base::Error
// naming the flag for a value that is wrong (an unknown profile or storage, a size, a host
// override, a credential file or CA file that cannot be read).
config::RunnerConfig execConfig(const ExecFlags& flags, const SavedDefaults& saved);

// The run's own values from the command line: the event payload (--eventpath), inputs, secrets
// (--secret-file first, then --secret; `-s K` takes $K), vars, env and matrix filters. Throws
// base::Error naming the flag for a malformed value or a file that cannot be read.
struct ExecValues {
    nlohmann::json event = nlohmann::json::object();
    std::map<std::string, std::string> inputs, secrets, vars;
    std::vector<std::pair<std::string, std::string>> env, matrix;
};
ExecValues execValues(const ExecFlags& flags);

}  // namespace nixjail::runner::cli
