// Each subcommand registers itself on the CLI11 app and sets `exit_code` when it runs.
#pragma once

#include <CLI/CLI.hpp>

namespace nixjail::runner::cli {

void addExecCommand(CLI::App& app, int& exit_code);
void addCacheCommand(CLI::App& app, int& exit_code);
void addRegisterCommands(CLI::App& app, int& exit_code);
void addDaemonCommand(CLI::App& app, int& exit_code);
void addOneJobCommand(CLI::App& app, int& exit_code);
void addGenerateConfigCommand(CLI::App& app, int& exit_code);
void addJobsCommand(CLI::App& app, int& exit_code);
void addStatsCommand(CLI::App& app, int& exit_code);
void addReplayCommand(CLI::App& app, int& exit_code);
void addPolicyCommand(CLI::App& app, int& exit_code);
void addShellCommand(CLI::App& app, int& exit_code);
void addKeptCommand(CLI::App& app, int& exit_code);

}  // namespace nixjail::runner::cli
