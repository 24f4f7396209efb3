// nixjail-runner: the command line. Subcommands live in cmd_*.cc.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "proxy/kernel_random.h"
#include "runner/base/sanitizers.h"
#include "runner/cli/commands.h"

int main(int argc, char** argv) {
    // Before any thread: OpenSSL's randomness for every command (proxies, their CAs, TLS).
    nixjail::proxy::useKernelRandomness();
    CLI::App app{"nixjail-runner: a self-hosted Forgejo/Gitea Actions runner that runs every job in a jail"};
    app.set_version_flag("--version", "nixjail-runner 0.1.0");
    app.require_subcommand(1);
    std::string logLevel = "warn";
    app.add_option("--log-level", logLevel, "operator log level: trace, debug, info, warn, error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
    int exitCode = 0;
    nixjail::runner::cli::addExecCommand(app, exitCode);
    nixjail::runner::cli::addCacheCommand(app, exitCode);
    nixjail::runner::cli::addRegisterCommands(app, exitCode);
    nixjail::runner::cli::addDaemonCommand(app, exitCode);
    nixjail::runner::cli::addOneJobCommand(app, exitCode);
    nixjail::runner::cli::addGenerateConfigCommand(app, exitCode);
    nixjail::runner::cli::addJobsCommand(app, exitCode);
    nixjail::runner::cli::addStatsCommand(app, exitCode);
    nixjail::runner::cli::addReplayCommand(app, exitCode);
    nixjail::runner::cli::addPolicyCommand(app, exitCode);
    nixjail::runner::cli::addShellCommand(app, exitCode);
    nixjail::runner::cli::addKeptCommand(app, exitCode);
    app.parse_complete_callback([&] {
        auto logger = spdlog::stderr_color_mt("nixjail");
        logger->set_level(spdlog::level::from_str(logLevel));
        spdlog::set_default_logger(logger);
    });
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // The specific problem, not the whole help text.
        std::fprintf(stderr, "nixjail-runner: %s\nRun with --help for usage.\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "nixjail-runner: %s\n", e.what());
        return 1;
    }
#if NIXJAIL_ASAN
    return exitCode;  // LeakSanitizer checks at the normal exit
#else
    // The command's owners have released all it held; what is left are process-wide caches
    // (OpenSSL's providers and algorithm tables, spdlog's registry) whose teardown at exit was
    // about 2 ms of every `exec`. Flush what is buffered and leave without it.
    spdlog::shutdown();
    std::fflush(nullptr);
    std::_Exit(exitCode);
#endif
}
