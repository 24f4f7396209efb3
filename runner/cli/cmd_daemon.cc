// `nixjail-runner daemon`: poll the forge and run its jobs until SIGTERM (see runner/daemon/).
#include "runner/cli/cache_dirs.h"
#include "runner/cli/commands.h"
#include "runner/daemon/daemon_main.h"

namespace nixjail::runner::cli {

void addDaemonCommand(CLI::App& app, int& exit_code) {
    auto config = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand("daemon", "Take jobs from the forge and run them until SIGTERM");
    cmd->add_option("-c,--config", *config,
                    "the configuration file (see generate-config; default: built-in defaults)");
    cmd->callback([config, &exit_code] {
        daemon::DaemonMainOptions o;
        o.config = *config;
        o.default_cache_dir = defaultCacheDir();
        o.nix_tools = nixToolsFromEnvironment();
        exit_code = daemon::daemonMain(o);
    });
}

}  // namespace nixjail::runner::cli
