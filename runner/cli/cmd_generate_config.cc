// `nixjail-runner generate-config`: print the documented example configuration.
#include <cstdio>

#include "runner/cli/commands.h"
#include "runner/config/runner_config.h"

namespace nixjail::runner::cli {

void addGenerateConfigCommand(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("generate-config",
                                   "Print a documented example configuration for daemon/one-job");
    cmd->callback([&exit_code] {
        std::fputs(config::exampleConfig().c_str(), stdout);
        exit_code = 0;
    });
}

}  // namespace nixjail::runner::cli
