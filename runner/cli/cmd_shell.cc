// `nixjail-runner shell ID [--step N] [-- COMMAND...]`: a shell (or one command) in a kept job's
// jail, through the keeper that holds it.
#include <unistd.h>

#include <cstdio>

#include "runner/base/error.h"
#include "runner/cli/cache_dirs.h"
#include "runner/cli/commands.h"
#include "runner/cli/keeper_protocol.h"
#include "runner/cli/kept_registry.h"
#include "runner/cli/terminal_relay.h"

namespace nixjail::runner::cli {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct ShellFlags {
    std::string id;
    std::vector<std::string> command;
    std::size_t step = 0;  // 0: no steps again
    std::string cache_dir;
};

int runShell(const ShellFlags& f) {
    const KeptRegistry registry = KeptRegistry::ofCacheDir(f.cache_dir);
    const KeptEntry entry = registry.find(f.id);
    base::UniqueFd keeper = connectKeeper(entry.socket());
    if (!keeper) {
        throw base::Error("the keeper of '" + entry.id + "' (pid " + std::to_string(entry.keeper) +
                          ") is gone, and the job's jail and network with it; remove what is left with "
                          "`nixjail-runner kept rm " + entry.id + "`");
    }
    Json request{{"op", "shell"}, {"argv", f.command}};
    if (f.step > 0) request["from_step"] = f.step;
    Json answer;
    runAttached([&](const executor::StepStdio& stdio) {
        request["terminal"] = stdio.terminal;
        sendKeeperMessage(keeper.get(), request, {stdio.in, stdio.out, stdio.err});
        answer = receiveKeeperMessage(keeper.get()).body;
    });
    for (const auto& line : answer.value("network", std::vector<std::string>{})) {
        std::fprintf(stderr, "nixjail-runner shell: network: %s\n", line.c_str());
    }
    if (answer.contains("error")) throw base::Error(answer["error"].get<std::string>());
    if (answer.contains("setup_error")) {
        throw base::Error("the command could not start in the jail of '" + entry.id + "': " +
                          answer["setup_error"].get<std::string>());
    }
    if (const int sig = answer.value("signal", 0); sig != 0) return 128 + sig;
    const int code = answer.value("exit_code", 1);
    return code < 0 ? 1 : code;
}

}  // namespace

void addShellCommand(CLI::App& app, int& exit_code) {
    auto flags = std::make_shared<ShellFlags>();
    auto* cmd = app.add_subcommand(
        "shell", "A shell (or one command, after --) in the jail of a job kept by exec --keep-failed or --keep");
    cmd->add_option("id", flags->id, "the kept job (see `nixjail-runner kept`)")->required();
    cmd->add_option("command", flags->command, "the command to run instead of an interactive shell");
    cmd->add_option("--step", flags->step,
                    "run the job's steps again from step N (1 is the first) up to the one that failed, then "
                    "give the shell");
    cmd->add_option("--cache-dir", flags->cache_dir, "the cache directory exec used (default as exec's)");
    cmd->callback([flags, &exit_code] {
        try {
            exit_code = runShell(*flags);
        } catch (const base::Error& e) {
            std::fprintf(stderr, "nixjail-runner shell: %s\n", e.what());
            exit_code = 1;
        }
    });
}

}  // namespace nixjail::runner::cli
