// `nixjail-runner exec`: run workflow files from a local repository, like `act` and
// `forgejo-runner exec`, with the same engine (and jail) the daemon uses.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include "proxy/tls_warmup.h"
#include "runner/artifact_server/artifact_server.h"
#include "runner/artifact_server/runtime_token.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/secret.h"
#include "runner/cache_server/cache_server.h"
#include "runner/cli/break_on_failure.h"
#include "runner/cli/cache_dirs.h"
#include "runner/cli/exec_keeper.h"
#include "runner/cli/foreground_handoff.h"
#include "runner/cli/commands.h"
#include "runner/cli/exec_config.h"
#include "runner/cli/key_values.h"
#include "runner/cli/repo_info.h"
#include "runner/cli/workflow_files.h"
#include "runner/engine/console_reporter.h"
#include "runner/engine/event_context.h"
#include "runner/engine/run_summary.h"
#include "runner/engine/workflow_runner.h"
#include "runner/network/repository_network.h"
#include "runner/services/runner_services.h"
#include "runner/workflow/job_graph.h"
#include "runner/workflow/workflow_loader.h"

namespace nixjail::runner::cli {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// SIGINT/SIGTERM cancel the run: blocked in every thread, received by one that only waits.
class SignalCanceller {
public:
    explicit SignalCanceller(std::stop_source& stop) {
        sigemptyset(&set_);
        sigaddset(&set_, SIGINT);
        sigaddset(&set_, SIGTERM);
        sigaddset(&set_, SIGUSR1);
        pthread_sigmask(SIG_BLOCK, &set_, &old_);
        thread_ = std::thread([this, &stop] {
            int sig = 0;
            while (sigwait(&set_, &sig) == 0) {
                if (sig == SIGUSR1) return;  // our own wake-up at exit
                std::fprintf(stderr, "\nnixjail-runner: received %s, cancelling the run\n", strsignal(sig));
                stop.request_stop();
            }
        });
    }
    ~SignalCanceller() {
        pthread_kill(thread_.native_handle(), SIGUSR1);
        thread_.join();
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }

private:
    sigset_t set_{}, old_{};
    std::thread thread_;
};

// Defaults of workflow_dispatch / workflow_call inputs, overridden by the event payload's
// `inputs` (--eventpath), overridden by --input.
std::map<std::string, std::string> inputsFor(const workflow::Workflow& wf, const std::string& event,
                                             const Json& payload,
                                             const std::map<std::string, std::string>& given) {
    std::map<std::string, std::string> out;
    const Json declared = wf.triggerSection(event, "inputs");
    for (const auto& [name, spec] : declared.items()) {
        if (spec.is_object() && spec.contains("default") && !spec["default"].is_null()) {
            out[name] = engine::inputText(spec["default"]);
        }
    }
    if (payload.is_object() && payload.contains("inputs") && payload["inputs"].is_object()) {
        for (const auto& [k, v] : payload["inputs"].items()) {
            if (!v.is_null()) out[k] = engine::inputText(v);
        }
    }
    for (const auto& [k, v] : given) out[k] = v;
    if (event == "workflow_dispatch") {
        // As GitHub refuses such a dispatch: every input must be declared, and a required one
        // without a default must be given.
        std::string unexpected;
        for (const auto& [k, v] : out) {
            if (!declared.contains(k))
                unexpected += (unexpected.empty() ? "\"" : ", \"") + k + "\"";
        }
        if (!unexpected.empty()) {
            throw base::Error("workflow '" + wf.file.filename().string() +
                              "': Unexpected inputs provided: [" + unexpected +
                              "]; on.workflow_dispatch.inputs does not declare them (pick one "
                              "workflow with -W when several take workflow_dispatch)");
        }
        for (const auto& [name, spec] : declared.items()) {
            if (!out.contains(name) && spec.is_object() && spec.value("required", false) == true) {
                throw base::Error("workflow '" + wf.file.filename().string() +
                                  "': Required input '" + name + "' not provided; give it with "
                                  "--input " + name + "=VALUE");
            }
        }
    }
    return out;
}

void listWorkflows(const std::vector<workflow::Workflow>& wfs) {
    std::vector<std::array<std::string, 5>> rows{{"WORKFLOW", "JOB ID", "JOB NAME", "NEEDS", "EVENTS"}};
    for (const auto& wf : wfs) {
        std::string events;
        for (const auto& [e, _] : wf.on.items()) events += (events.empty() ? "" : ",") + e;
        for (const auto& j : wf.jobs) {
            std::string needs;
            for (const auto& n : j.needs) needs += (needs.empty() ? "" : ",") + n;
            rows.push_back({wf.file.filename().string(), j.id, j.name.empty() ? j.id : j.name, needs, events});
        }
    }
    std::array<size_t, 5> w{};
    for (const auto& r : rows) {
        for (size_t i = 0; i < 5; ++i) w[i] = std::max(w[i], r[i].size());
    }
    for (const auto& r : rows) {
        fmt::print("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {}\n", r[0], w[0], r[1], w[1], r[2], w[2], r[3], w[3], r[4]);
    }
}

// The highest run id with artifacts under `dir` (v3: DIR/<run id>, v4: DIR/v4/<run id>); 0 if none.
unsigned long highestRunId(const fs::path& dir) {
    unsigned long highest = 0;
    for (const fs::path& d : {dir, dir / "v4"}) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(d, ec)) {
            const std::string name = e.path().filename().string();
            if (name.empty() || name.size() > 9 || name.find_first_not_of("0123456789") != std::string::npos) continue;
            highest = std::max(highest, std::stoul(name));
        }
    }
    return highest;
}

void printPlan(const workflow::Workflow& wf, const std::vector<std::string>& ids, const engine::RunOptions& opts) {
    fmt::print("workflow {} ({})\n", wf.name.empty() ? wf.file.filename().string() : wf.name, wf.file.string());
    for (const auto& id : ids) {
        const auto* job = wf.findJob(id);
        Json needs = Json::object();
        for (const auto& n : job->needs) needs[n] = Json{{"result", "success"}, {"outputs", Json::object()}};
        std::string error;
        auto instances = engine::planInstances(wf, *job, opts, needs, &error);
        if (!error.empty()) {
            fmt::print("  job {}: {}\n", id, error);
            continue;
        }
        for (const auto& inst : instances) {
            fmt::print("  job {}{}\n", inst.display_name,
                       job->needs.empty() ? "" : " (after " + fmt::format("{}", fmt::join(job->needs, ", ")) + ")");
            if (!job->uses.empty()) fmt::print("    calls the reusable workflow {}\n", job->uses);
            size_t i = 1;
            for (const auto& s : job->steps) {
                std::string name = !s.name.empty() ? s.name : !s.run.empty() ? "Run " + s.run.substr(0, s.run.find('\n')) : "Run " + s.uses;
                fmt::print("    {}. {}\n", i++, name);
            }
        }
    }
}

// exec's own messages on stderr: "nixjail-runner exec: warning: ..." (info without a level).
std::shared_ptr<spdlog::logger> execLogger() {
    class LevelPrefix : public spdlog::custom_flag_formatter {
      public:
        void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
            if (msg.level >= spdlog::level::warn) {
                const auto name = spdlog::level::to_string_view(msg.level);
                dest.append(name.data(), name.data() + name.size());
                dest.append(std::string_view(": "));
            }
        }
        std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<LevelPrefix>(); }
    };
    auto log = std::make_shared<spdlog::logger>("exec", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<LevelPrefix>('*').set_pattern("nixjail-runner exec: %*%v");
    log->set_formatter(std::move(formatter));
    log->set_level(spdlog::level::info);
    return log;
}

// The run's own environment for the runner's servers: their URLs and the run's token.
void addServerEnvironment(services::RunnerServices& services, engine::RunOptions& opts,
                          actions::SecretMasker& masker) {
    auto* cache = services.actionsCache();
    auto* artifacts = services.artifacts();
    if (!cache && !artifacts) return;
    // One JWT naming the run for both: upload-artifact@v4 reads its run id from the runtime token.
    const base::Secret token(artifact_server::makeRuntimeToken(opts.run_id));
    masker.add(token.reveal());
    std::vector<std::pair<std::string, std::string>> env;
    if (cache) {
        cache->authorize(token, opts.github.value("repository", std::string("local")));
        env = {{"ACTIONS_CACHE_URL", services.actionsCacheUrl()}};
    }
    if (artifacts) {
        artifacts->authorize(token, opts.run_id);
        env.emplace_back("ACTIONS_RUNTIME_URL", services.artifactsUrl());
        env.emplace_back("ACTIONS_RESULTS_URL", services.artifactsUrl());
    }
    env.emplace_back("ACTIONS_RUNTIME_TOKEN", token.reveal());
    // First, so that an --env of the same name still wins.
    opts.env.insert(opts.env.begin(), env.begin(), env.end());
}

// The workflow files of `repo`, each checked; nullopt (the diagnostics printed) when one is invalid.
std::optional<std::vector<workflow::Workflow>> loadWorkflows(const fs::path& repo, const ExecFlags& f) {
    std::vector<workflow::Workflow> workflows;
    bool loadFailed = false;
    for (const auto& file : findWorkflowFiles(repo, f.workflows)) {
        auto wf = workflow::loadWorkflowFile(file);
        if (!wf) {
            std::fprintf(stderr, "%s\n", workflow::formatAll(wf.error()).c_str());
            loadFailed = true;
            continue;
        }
        workflows.push_back(std::move(*wf));
    }
    if (loadFailed) return std::nullopt;
    return workflows;
}

// Which workflows run: the event's, or with -j those that have the job.
std::vector<const workflow::Workflow*> selectWorkflows(const std::vector<workflow::Workflow>& workflows,
                                                       const std::vector<std::string>& jobs,
                                                       const std::string& event) {
    std::vector<const workflow::Workflow*> selected;
    for (const auto& wf : workflows) {
        bool hasJob = jobs.empty() || std::any_of(jobs.begin(), jobs.end(), [&](const auto& j) { return wf.findJob(j); });
        if (!hasJob) continue;
        if (!jobs.empty() || wf.triggeredBy(event)) selected.push_back(&wf);
    }
    for (const auto& j : jobs) {
        if (std::none_of(workflows.begin(), workflows.end(), [&](const auto& wf) { return wf.findJob(j); })) {
            throw base::Error("no workflow has a job '" + j + "'; see --list");
        }
    }
    if (selected.empty()) {
        throw base::Error("no workflow is triggered by event '" + event + "'; choose one with --event or a job with -j (see --list)");
    }
    return selected;
}

// What every job of this run starts from: the services' defaults, the working tree, the values
// given on the command line.
engine::RunOptions runOptions(services::RunnerServices& services, const config::RunnerConfig& config,
                              const ExecFlags& f, const fs::path& repo, ExecValues values) {
    engine::RunOptions opts = services.jobDefaults();
    opts.repo_dir = repo;
    opts.workspace_from_repo = true;  // as act and forgejo-runner exec: local actions need no checkout
    opts.github = localGithubContext(repo);
    if (!f.server_url.empty()) {
        std::string url = f.server_url;
        while (!url.empty() && url.back() == '/') url.pop_back();
        opts.github["server_url"] = url;
        opts.github["api_url"] = url + "/api/v1";
        opts.github["graphql_url"] = url + "/api/graphql";
    }
    opts.event_name = f.event.empty() ? "push" : f.event;
    opts.event = std::move(values.event);
    opts.secrets = std::move(values.secrets);
    opts.vars = std::move(values.vars);
    opts.env = std::move(values.env);
    opts.matrix_filter = std::move(values.matrix);
    opts.default_actions_url = f.default_actions_url;
    opts.action_cache_dir = f.action_cache_dir;
    opts.max_parallel_jobs = static_cast<size_t>(config.runner.capacity);
    if (config.proxy.repository_policy) {
        const std::string shown = (repo / network::kRepositoryNetworkFile).string();
        if (auto file = network::readRepositoryNetwork(repo, shown)) {
            for (auto& note : network::applyRepositoryNetwork(std::move(*file), opts.network))
                opts.network.notes.push_back(std::move(note));
        } else {
            opts.network.notes.push_back("--repository-policy: the working tree has no " +
                                         std::string(network::kRepositoryNetworkFile));
        }
    }
    // Each run keeps its artifacts apart: the run id follows the highest one in the directory.
    if (!f.artifact_server_path.empty() && !f.dry_run) {
        opts.run_id = opts.run_number = std::to_string(highestRunId(f.artifact_server_path) + 1);
    }
    return opts;
}

// The results table, and the JSON summary when asked for.
void reportRun(const std::vector<engine::JobReport>& jobs, Json summary, actions::Result overall,
               services::RunnerServices& services, const ExecFlags& f, bool colour) {
    std::fputs("\n", stdout);
    std::fputs(engine::resultsTable(jobs, colour).c_str(), stdout);
    summary["result"] = actions::resultName(overall);
    if (auto* cacheServer = services.actionsCache()) {
        const auto c = cacheServer->counters();
        summary["actions_cache"] = Json{{"hits", c.hits},
                                        {"misses", c.misses},
                                        {"bytes_uploaded", c.bytes_uploaded},
                                        {"bytes_downloaded", c.bytes_downloaded},
                                        {"entries_saved", c.entries_committed},
                                        {"entries_evicted", c.entries_evicted}};
    }
    if (!f.json_summary.empty()) base::writeFileAtomic(f.json_summary, summary.dump(2) + "\n");
}

// Kept jobs stay with a process that outlives exec's: its output goes to a log beside them.
void detachFromTerminal(const fs::path& log) {
    base::UniqueFd in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    base::UniqueFd out(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    std::fflush(stdout);
    std::fflush(stderr);
    if (in) ::dup2(in.get(), STDIN_FILENO);
    if (out) {
        ::dup2(out.get(), STDOUT_FILENO);
        ::dup2(out.get(), STDERR_FILENO);
    }
}

// --keep, --keep-failed and --break-on-failure attach a shell to a job's jail: only a backend
// that can (BackendTraits::attaches_stdio).
void checkAttachable(const ExecFlags& f, const executor::Executor& executor) {
    if (executor.traits().attaches_stdio) return;
    const char* flag = f.keep ? "--keep" : f.keep_failed ? "--keep-failed" : "--break-on-failure";
    throw base::Error(std::string(flag) + " opens a shell in the job's jail, which the '" + executor.name() +
                      "' executor cannot do" +
                      (executor.name() == "host" ? " (it has no jail)" : "") +
                      "; run with --executor namespace");
}

int runExec(const ExecFlags& given) {
    // exec --keep/--keep-failed: the run goes on in a process that may stay behind as the keeper.
    const bool keeping = (given.keep || given.keep_failed) && !given.list && !given.dry_run;
    std::optional<ForegroundHandoff> handoff;
    if (keeping) handoff.emplace();
    // Before any thread exists (cache server, proxies, jobs): every later thread inherits the
    // blocked signals, so SIGINT/SIGTERM always reach the canceller instead of killing the process.
    std::stop_source stop;
    SignalCanceller signals(stop);
    // OpenSSL's start-up runs beside the reading of flags, workflows and roots, so that the first
    // job's proxy finds it done (it blocks the same signals, being started after the canceller).
    std::optional<proxy::TlsWarmup> tlsWarmup;
    if (!given.list && !given.dry_run) tlsWarmup.emplace();
    fs::path repo = fs::absolute(given.directory).lexically_normal();
    if (!repo.has_filename()) repo = repo.parent_path();
    const SavedDefaults saved = loadSavedDefaults(repo);
    for (const auto& w : saved.warnings) std::fprintf(stderr, "nixjail-runner exec: warning: %s\n", w.c_str());
    const ExecFlags f = withSavedDefaults(given, saved);
    // Flags first, so their mistakes are reported before anything is read or run.
    const config::RunnerConfig config = execConfig(f, saved);
    ExecValues values = execValues(f);
    const auto inputs = values.inputs;
    const auto workflows = loadWorkflows(repo, f);
    if (!workflows) return 1;
    if (f.list) {
        listWorkflows(*workflows);
        return 0;
    }

    const std::uint64_t artifactBudget =
        parseSize(f.artifact_server_budget, "--artifact-server-budget");
    services::RunnerServices services(
        config, services::ServicesContext{
                    .role = services::ServicesContext::Role::kExec,
                    .default_cache_dir = defaultCacheDir(),
                    .nix_tools = nixToolsFromEnvironment(),
                    .log = execLogger(),
                    .repo_dir = repo,
                    .nixpkgs_from = given.nixpkgs.empty() ? saved.nixpkgs_from : "--nixpkgs",
                    .nixpkgs_given = !given.nixpkgs.empty(),
                    .artifact_dir = f.artifact_server_path,
                    .artifact_budget = artifactBudget,
                    .dry_run = f.dry_run});
    engine::RunOptions opts = runOptions(services, config, f, repo, std::move(values));
    // The first job's proxy CA is made on the warm-up's thread, ahead of the job.
    if (tlsWarmup) opts.network.authority = tlsWarmup->authorities();
    std::unique_ptr<ExecKeeper> keeper;
    if ((keeping || f.break_on_failure) && !f.dry_run) checkAttachable(f, *opts.executor);
    if (keeping) {
        const std::uint64_t budget =
            f.keep_budget.empty() ? config.cache.workspace_budget : parseSize(f.keep_budget, "--keep-budget");
        keeper = std::make_unique<ExecKeeper>(KeptRegistry::ofCacheDir(config.cache.dir.string()), budget);
        opts.keep = f.keep ? engine::KeepJob::kAlways : engine::KeepJob::kFailed;
        opts.keeper = keeper.get();
    }
    if (f.break_on_failure && !f.dry_run) opts.on_step_failure = breakOnFailure();
    actions::SecretMasker masker;
    for (const auto& [k, v] : opts.secrets) masker.add(v);
    addServerEnvironment(services, opts, masker);
    const std::string& event = opts.event_name;
    const auto selected = selectWorkflows(*workflows, f.jobs, event);

    const bool colour = !f.no_color && ::isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
    auto isTrue = [](const std::map<std::string, std::string>& m) {
        auto it = m.find("ACTIONS_STEP_DEBUG");
        return it != m.end() && it->second == "true";
    };
    engine::ConsoleReporter console(stdout, colour, f.verbose || isTrue(opts.secrets) || isTrue(opts.vars));
    Json summary = Json{{"workflows", Json::array()}};
    std::vector<engine::JobReport> allJobs;
    actions::Result overall = actions::Result::kSuccess;
    for (const auto* wf : selected) {
        engine::RunOptions wfOpts = opts;
        wfOpts.inputs = inputsFor(*wf, event, opts.event, inputs);
        if (wfOpts.event.is_object() && !wfOpts.inputs.empty() && event == "workflow_dispatch") {
            for (const auto& [k, v] : wfOpts.inputs) wfOpts.event["inputs"][k] = v;
        }
        auto order = workflow::orderJobs(*wf);
        std::vector<std::string> ids = f.jobs.empty() ? *order : workflow::withDependencies(*wf, f.jobs);
        if (!f.jobs.empty()) {
            std::erase_if(ids, [&](const std::string& id) { return !wf->findJob(id); });
        }
        if (f.dry_run) {
            printPlan(*wf, ids, wfOpts);
            continue;
        }
        std::vector<std::string> wanted = f.jobs;
        std::erase_if(wanted, [&](const std::string& id) { return !wf->findJob(id); });
        auto report = engine::runWorkflow(*wf, wanted, wfOpts, console, masker, stop.get_token());
        summary["workflows"].push_back(engine::workflowSummary(wf->file.string(), wf->name, report));
        if (report.result == actions::Result::kFailure) overall = actions::Result::kFailure;
        if (report.result == actions::Result::kCancelled && overall == actions::Result::kSuccess) {
            overall = actions::Result::kCancelled;
        }
        allJobs.insert(allJobs.end(), report.jobs.begin(), report.jobs.end());
    }
    if (f.dry_run) return 0;
    reportRun(allJobs, std::move(summary), overall, services, f, colour);
    const int code = overall == actions::Result::kSuccess ? 0 : 1;
    if (keeper && !keeper->empty()) {
        keeper->announce(stdout);
        const fs::path log = keeper->logPath();
        handoff->finish(code);
        detachFromTerminal(log);
        keeper->serve(stop.get_token());
        std::error_code ec;
        fs::remove(log, ec);
    }
    return code;
}

}  // namespace

void addExecCommand(CLI::App& app, int& exit_code) {
    auto flags = std::make_shared<ExecFlags>();
    auto* cmd = app.add_subcommand("exec", "Run workflows of the repository in the current directory locally");
    cmd->add_option("-W,--workflows", flags->workflows,
                    "workflow file or directory (default: .forgejo/workflows, .gitea/workflows or .github/workflows)");
    cmd->add_option("-C,--directory", flags->directory, "the repository's working tree (default: .)");
    cmd->add_option("-j,--job", flags->jobs, "run only this job (and what it needs); repeatable");
    cmd->add_option("-E,--event", flags->event, "the event that triggers the run (default: push)");
    cmd->add_option("-e,--eventpath", flags->event_path, "JSON file with the event payload (github.event)");
    cmd->add_option("--input", flags->inputs, "workflow input K=V; repeatable");
    cmd->add_option("-s,--secret", flags->secrets, "secret K=V, or K to take it from $K; repeatable");
    cmd->add_option("--secret-file", flags->secret_files, "file of KEY=VALUE secrets; repeatable");
    cmd->add_option("--var", flags->vars, "configuration variable K=V (vars context); repeatable");
    cmd->add_option("--env", flags->envs, "environment variable K=V for every job; repeatable");
    cmd->add_option("--matrix", flags->matrix, "run only matrix combinations with K:V; repeatable, a repeated key meaning any of its values");
    cmd->add_option("--json-summary", flags->json_summary, "write jobs, steps, results and outputs as JSON here");
    cmd->add_flag("-l,--list", flags->list, "list workflows and jobs, run nothing");
    cmd->add_flag("-n,--dry-run", flags->dry_run, "show what would run, run nothing");
    cmd->add_flag("--network-audit", flags->network_audit,
                  "allow jobs every request, recording what the policy would have decided (see --json-summary "
                  "and `nixjail-runner policy suggest --summary FILE`)");
    cmd->add_option("--profile", flags->profile,
                    "hardening profile of the jail: default (JIT runtimes such as node and the JVM work), or "
                    "strict (forbids writable+executable memory; node runs --jitless, without WebAssembly)");
    cmd->add_option("--executor", flags->executor,
                    "where steps run: auto (systemd where it is PID 1, else namespace), namespace (the built-in "
                    "jail), systemd, sandbox-exec (macOS) or host (no isolation, for debugging)");
    cmd->add_option("--packages", flags->packages,
                    "Nix packages every job's root holds, e.g. \"bash coreutils git\" (jobs add theirs with "
                    "the NIXJAIL_PACKAGES variable; a job with none gets its runs-on label's default set)");
    cmd->add_option("--nixpkgs", flags->nixpkgs,
                    "the nixpkgs packages are resolved against: a path, <nixpkgs>, a channel (channel:NAME) or a "
                    "tarball URL (default: <nixpkgs> from NIX_PATH, else the flake registry's nixpkgs)");
    cmd->add_option("--server-url", flags->server_url,
                    "the forge other repositories are checked out from (default: from the origin remote)");
    cmd->add_option("--cache-dir", flags->cache_dir,
                    "where job roots are cached (default /var/cache/nixjail-runner as root, else ~/.cache)");
    cmd->add_option("--storage", flags->storage,
                    "how the cache directory stores roots and checkouts: auto (detected), btrfs, "
                    "reflink or copy; "
                    "a forced backend that cannot work there is an error");
    cmd->add_option("--disk", flags->disk,
                    "each job's disk quota, e.g. 2G: its workspace, home and temp directories live on a "
                    "volume of that size (needs root and loop devices; checkouts into it are copies)");
    cmd->add_option("--default-actions-url", flags->default_actions_url,
                    "where owner/repo@ref actions are fetched from (default: https://github.com)");
    cmd->add_option("--action-cache-dir", flags->action_cache_dir, "keep fetched actions here between runs");
    cmd->add_option("--max-parallel", flags->max_parallel, "job instances running at once (default: cores, at least 2)");
    cmd->add_option(
        "--policy", flags->policy,
        "network policy file (YAML rules) every job's proxy applies; absent: jobs reach only the "
        "forge (--server-url or the origin remote)");
    cmd->add_option(
        "--credential-file", flags->credential_file,
        "YAML list of credentials the proxy injects ({name, env|file, hosts, header, dummy}); "
        "jobs see only the dummy, as secrets.<name>");
    cmd->add_option(
        "--extra-ca-file", flags->extra_ca_file,
        "PEM CA the proxy trusts for upstream TLS besides the system store (tests, private CAs)");
    cmd->add_option(
        "--host-override", flags->host_overrides,
        "HOST=IP: the proxy connects to IP for HOST (TLS still checks HOST); repeatable");
    cmd->add_option("--secret-host", flags->secret_hosts,
                    "NAME=HOST[,HOST...]: jailed jobs see secret NAME only as a placeholder, which "
                    "the proxy swaps for the real value in requests to those hosts; repeatable");
    cmd->add_option("--secret-in-bodies", flags->secret_in_bodies,
                    "NAME: also swap the placeholder of secret NAME in request bodies to its hosts "
                    "(only for hosts that never echo or publish a body); repeatable");
    cmd->add_flag("--repository-policy", flags->repository_policy,
                  "read .nixjail-network.yaml of the working tree: its rules narrow the network "
                  "policy, its secret_hosts bind secrets to hosts (as the daemon's "
                  "proxy.repository_policy)");
    cmd->add_option("--cache-server-dir", flags->cache_server_dir,
                    "where the actions/cache server (ACTIONS_CACHE_URL) keeps entries (default: "
                    "<cache dir>/actions-cache)");
    cmd->add_flag("--no-cache-server", flags->no_cache_server,
                  "start no actions/cache server; jobs get no ACTIONS_CACHE_URL");
    cmd->add_option("--artifact-server-path", flags->artifact_server_path,
                    "serve actions/upload-artifact and download-artifact @v3 (ACTIONS_RUNTIME_URL; "
                    "kept in DIR/<run id>/<name>/) and @v4 (ACTIONS_RESULTS_URL; kept as "
                    "DIR/v4/<run id>/<name>.zip); without it no artifact server starts and jobs get "
                    "no ACTIONS_RUNTIME_URL");
    cmd->add_option("--artifact-server-budget", flags->artifact_server_budget,
                    "the most bytes the artifact server keeps for this run, e.g. 500M or 10G (a "
                    "v4 block list needs room for its blocks and the zip at once); uploads "
                    "beyond it fail with 413")
        ->capture_default_str();
    cmd->add_flag("--keep-failed", flags->keep_failed,
                  "keep a failed job's directory, workspace, root and network (with its proxy) for "
                  "`nixjail-runner shell ID`; exec returns and a process stays behind holding them until "
                  "`nixjail-runner kept rm ID` (namespace executor)");
    cmd->add_flag("--keep", flags->keep, "as --keep-failed, for every job whatever its result");
    cmd->add_option("--keep-budget", flags->keep_budget,
                    "the most bytes all kept jobs may take, e.g. 5G: keeping one releases the oldest first "
                    "(default: cache.workspace_budget, 20G)");
    cmd->add_flag("--break-on-failure", flags->break_on_failure,
                  "when a step fails, open a shell in its jail with its environment (on this terminal), "
                  "then ask: retry the step, continue, ignore the failure or abort (namespace executor)");
    cmd->add_option("--service-images", flags->service_images,
                    "YAML file mapping `services:` and `container:` images to Nix packages, with the "
                    "configuration's `services:` (images, ready_timeout) and `container:` (images) keys; "
                    "ahead of the built-in mappings");
    cmd->add_flag("--no-color", flags->no_color, "never colour the output");
    cmd->add_flag("-v,--verbose", flags->verbose,
                  "show ::debug:: lines and each step's shell command (also: ACTIONS_STEP_DEBUG=true)");
    cmd->callback([flags, &exit_code] {
        try {
            exit_code = runExec(*flags);
        } catch (const base::Error& e) {
            std::fprintf(stderr, "nixjail-runner exec: %s\n", e.what());
            exit_code = 1;
        }
    });
}

}  // namespace nixjail::runner::cli
