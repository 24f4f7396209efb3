// The body of `nixjail-runner daemon` and `one-job`: load the configuration, build the runtime,
// watch for SIGTERM/SIGINT, run. Returns the process exit code; prints fatal errors to stderr.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "workspace-cache/closure.h"

namespace nixjail::runner::daemon {

struct DaemonMainOptions {
    std::filesystem::path config;  // empty: the defaults
    bool one_job = false;
    std::chrono::milliseconds wait{0};  // one-job: how long to poll for a task
    std::filesystem::path default_cache_dir;
    cache::NixTools nix_tools;
    std::string command = "daemon";  // for messages
};

// Exit codes: 0 success (daemon: clean shutdown; one-job: the job succeeded), 1 error or failed
// job, 3 one-job found no task.
int daemonMain(const DaemonMainOptions& options);

}  // namespace nixjail::runner::daemon
