// Each subcommand registers itself on the CLI11 app and sets `exit_code` when it runs.
#pragma once

#include <CLI/CLI.hpp>

namespace nixjail::runner::cli {

void addExecCommand(CLI::App& app, int& exit_code);
void addCacheCommand(CLI::App& app, int& exit_code);
void addRegisterCommands(CLI::App& app, int& exit_code);

}  // namespace nixjail::runner::cli
