// DaemonRuntime: everything a daemon (or one-job) run owns, built from the configuration in
// acquisition order: runner file, forge clients, job database, the runner's services
// (runner/services: executor, caches, servers), start-up sweep, metrics server, and the Daemon.
#pragma once

#include <spdlog/logger.h>

#include <memory>

#include "runner/config/runner_config.h"
#include "runner/daemon/daemon.h"
#include "workspace-cache/closure.h"

namespace nixjail::runner::daemon {

class DaemonRuntime {
  public:
    // default_cache_dir: used when cache.dir is empty; nix_tools: how Nix is run for job roots.
    // Throws base::Error saying what to fix.
    DaemonRuntime(config::RunnerConfig config, const std::filesystem::path& default_cache_dir,
                  cache::NixTools nix_tools, std::shared_ptr<spdlog::logger> log);
    ~DaemonRuntime();

    Daemon& daemon();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// A logger in log.format (text or one JSON object per line) at log.level; null sink: stderr.
std::shared_ptr<spdlog::logger> makeDaemonLogger(const config::RunnerConfig& config,
                                                 spdlog::sink_ptr sink = nullptr);

}  // namespace nixjail::runner::daemon
