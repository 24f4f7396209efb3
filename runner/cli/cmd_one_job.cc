// `nixjail-runner one-job`: take one task from the forge, run it, exit (ephemeral runners).
#include "runner/base/error.h"
#include "runner/cli/cache_dirs.h"
#include "runner/cli/commands.h"
#include "runner/config/runner_config.h"
#include "runner/daemon/daemon_main.h"

namespace nixjail::runner::cli {

void addOneJobCommand(CLI::App& app, int& exit_code) {
    struct Flags {
        std::string config;
        std::string wait = "0s";
    };
    auto f = std::make_shared<Flags>();
    auto* cmd = app.add_subcommand("one-job",
                                   "Take one task from the forge, run it and exit: 0 the job "
                                   "succeeded, 1 it failed, 3 no task");
    cmd->add_option("-c,--config", f->config,
                    "the configuration file (default: built-in defaults)");
    cmd->add_option("--wait", f->wait,
                    "keep polling this long for a task, e.g. 10m (default: poll once)");
    cmd->callback([f, &exit_code] {
        auto wait = config::parseDuration(f->wait);
        if (!wait) {
            std::fprintf(
                stderr,
                "nixjail-runner one-job: --wait '%s' is not a duration; write e.g. 30s or 10m\n",
                f->wait.c_str());
            exit_code = 2;
            return;
        }
        daemon::DaemonMainOptions o;
        o.config = f->config;
        o.one_job = true;
        o.wait = *wait;
        o.command = "one-job";
        o.default_cache_dir = defaultCacheDir();
        o.nix_tools = nixToolsFromEnvironment();
        exit_code = daemon::daemonMain(o);
    });
}

}  // namespace nixjail::runner::cli
