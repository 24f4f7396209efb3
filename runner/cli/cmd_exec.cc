// `nixjail-runner exec`: run workflow files from a local repository, like `act` and
// `forgejo-runner exec`, with the same engine (and jail) the daemon uses.
#include <linux/magic.h>
#include <signal.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include "executor/executor_factory.h"
#include "runner/artifact_server/artifact_server.h"
#include "runner/artifact_server/runtime_token.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/secret.h"
#include "runner/base/temp_dir.h"
#include "runner/cache_server/cache_server.h"
#include "runner/cli/cache_dirs.h"
#include "runner/cli/commands.h"
#include "runner/cli/key_values.h"
#include "runner/cli/repo_info.h"
#include "runner/cli/saved_defaults.h"
#include "runner/cli/workflow_files.h"
#include "runner/engine/checkout_provider.h"
#include "runner/engine/console_reporter.h"
#include "runner/engine/event_context.h"
#include "runner/engine/nix_root_provider.h"
#include "runner/engine/nixpkgs_locator.h"
#include "runner/engine/run_summary.h"
#include "runner/engine/workflow_runner.h"
#include "runner/network/credential_file.h"
#include "runner/workflow/job_graph.h"
#include "runner/workflow/workflow_loader.h"
#include "workspace-cache/job_volume.h"
#include "workspace-cache/nix_preflight.h"

namespace nixjail::runner::cli {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct ExecFlags {
    std::string workflows;
    std::string directory = ".";
    std::vector<std::string> jobs;
    std::string event;
    std::string event_path;
    std::vector<std::string> inputs, secrets, secret_files, vars, envs, matrix;
    std::string json_summary;
    bool list = false;
    bool dry_run = false;
    std::string executor;  // empty: saved default, else auto
    std::string profile;   // empty: saved default, else default
    bool network_audit = false;
    std::string packages;
    std::string nixpkgs;
    std::string cache_dir;
    std::string storage = "auto";  // the cache's storage backend (roots and checkouts)
    std::string disk;              // each job's workspace quota; empty: none
    std::string server_url;
    std::string default_actions_url = "https://github.com";
    std::string action_cache_dir;
    std::string cache_server_dir;
    bool no_cache_server = false;
    std::string artifact_server_path;
    size_t max_parallel = 0;
    bool no_color = false;
    bool verbose = false;
    std::string policy;
    std::string credential_file;
    std::string extra_ca_file;
    std::vector<std::string> host_overrides;
};

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

// What the command line left out, from the saved defaults (saved_defaults.h), then built in.
ExecFlags withSavedDefaults(ExecFlags f, const SavedDefaults& saved) {
    auto fill = [](std::string& flag, const std::optional<std::string>& value, const char* builtIn) {
        if (flag.empty()) flag = value.value_or(builtIn);
    };
    fill(f.packages, saved.packages, "");
    fill(f.nixpkgs, saved.nixpkgs, "");
    fill(f.executor, saved.executor, "auto");
    fill(f.profile, saved.profile, "default");
    fill(f.policy, saved.policy, "");
    fill(f.credential_file, saved.credential_file, "");
    fill(f.cache_dir, saved.cache_dir, "");
    // Read first, so that the values of files given with --secret-file win.
    f.secret_files.insert(f.secret_files.begin(), saved.secret_files.begin(), saved.secret_files.end());
    return f;
}

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

int runExec(const ExecFlags& given) {
    // Before any thread exists (cache server, proxies, jobs): every later thread inherits the
    // blocked signals, so SIGINT/SIGTERM always reach the canceller instead of killing the process.
    std::stop_source stop;
    SignalCanceller signals(stop);
    fs::path repo = fs::absolute(given.directory).lexically_normal();
    if (!repo.has_filename()) repo = repo.parent_path();
    const SavedDefaults saved = loadSavedDefaults(repo);
    for (const auto& w : saved.warnings) std::fprintf(stderr, "nixjail-runner exec: warning: %s\n", w.c_str());
    const ExecFlags f = withSavedDefaults(given, saved);
    // Flags first, so their mistakes are reported before anything is read or run.
    engine::RunOptions opts;
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
    if (!f.event_path.empty()) {
        try {
            opts.event = Json::parse(base::readFile(f.event_path));
        } catch (const Json::parse_error& e) {
            throw base::Error("--eventpath '" + f.event_path + "' is not valid JSON: " + e.what());
        }
    }
    std::map<std::string, std::string> inputs;
    for (const auto& s : f.inputs) inputs.insert(parseKeyValue(s, "--input"));
    for (const auto& file : f.secret_files) {
        for (auto& [k, v] : readKeyValueFile(file)) opts.secrets[k] = v;
    }
    for (const auto& s : f.secrets) {
        auto [k, v] = parseKeyValue(s, "--secret", '=', true);
        opts.secrets[k] = v;
    }
    for (const auto& s : f.vars) opts.vars.insert(parseKeyValue(s, "--var"));
    for (const auto& s : f.envs) opts.env.push_back(parseKeyValue(s, "--env"));
    for (const auto& s : f.matrix) opts.matrix_filter.push_back(parseKeyValue(s, "--matrix", ':'));
    // The jobs' network (isolating executors): the base policy, credentials, upstream trust.
    opts.network.audit_only = f.network_audit;
    if (!f.policy.empty()) opts.network.admin_policy = proxy::loadPolicyFile(f.policy, "admin");
    if (!f.credential_file.empty())
        opts.network.credentials = network::loadCredentialFile(f.credential_file);
    if (!f.extra_ca_file.empty()) {
        if (::access(f.extra_ca_file.c_str(), R_OK) != 0) {
            throw base::SysError("--extra-ca-file '" + f.extra_ca_file + "'");
        }
        opts.network.extra_upstream_ca_file = fs::absolute(f.extra_ca_file);
    }
    for (const auto& s : f.host_overrides)
        opts.network.host_overrides.insert(parseKeyValue(s, "--host-override"));
    auto files = findWorkflowFiles(repo, f.workflows);
    std::vector<workflow::Workflow> workflows;
    bool loadFailed = false;
    for (const auto& file : files) {
        auto wf = workflow::loadWorkflowFile(file);
        if (!wf) {
            std::fprintf(stderr, "%s\n", workflow::formatAll(wf.error()).c_str());
            loadFailed = true;
            continue;
        }
        workflows.push_back(std::move(*wf));
    }
    if (loadFailed) return 1;
    if (f.list) {
        listWorkflows(workflows);
        return 0;
    }

    opts.default_actions_url = f.default_actions_url;
    opts.action_cache_dir = f.action_cache_dir;
    // "jit-runtime" is the old name of what is now the default.
    if (f.profile == "strict") {
        opts.profile = executor::HardeningProfile::kStrict;
    } else if (f.profile != "default" && f.profile != "jit-runtime") {
        throw base::Error("unknown hardening profile '" + f.profile + "'; choose default or strict");
    }
    opts.max_parallel_jobs = f.max_parallel ? f.max_parallel : std::max(2u, std::thread::hardware_concurrency());
    if (!f.disk.empty()) {
        opts.limits.disk_max_bytes = parseSize(f.disk, "--disk");
        // Said once, before any job, rather than by every job.
        if (auto why = cache::JobVolume::unavailableReason(); opts.limits.disk_max_bytes > 0 && !why.empty() && !f.dry_run)
            throw base::Error("--disk " + f.disk + ": a job volume cannot be made here: " + why);
    }
    auto executor = executor::makeExecutor(f.executor);
    opts.executor = executor.get();
    // Each run keeps its artifacts apart: the run id follows the highest one in the directory.
    if (!f.artifact_server_path.empty() && !f.dry_run) {
        opts.run_id = opts.run_number = std::to_string(highestRunId(f.artifact_server_path) + 1);
    }
    const fs::path cacheDir = f.cache_dir.empty() ? defaultCacheDir() : fs::path(f.cache_dir);
    const auto storage = cache::parseStorageChoice(f.storage, "--storage");
    // The actions/cache server behind ACTIONS_CACHE_URL. Always started (unless --no-cache-server):
    // it costs one loopback socket and a thread, and scripts and tools other than actions/cache
    // speak the same API, so looking for `uses: actions/cache` would miss them.
    std::unique_ptr<cache_server::CacheServer> cacheServer;
    base::Secret cacheToken;
    if (!f.no_cache_server && !f.dry_run) {
        const fs::path dir = f.cache_server_dir.empty() ? cacheDir / "actions-cache" : fs::path(f.cache_server_dir);
        try {
            cacheServer = std::make_unique<cache_server::CacheServer>(cache_server::CacheServerConfig{.dir = dir});
            // A JWT naming the run: upload-artifact@v4 reads its run id from the runtime token.
            cacheToken = base::Secret(artifact_server::makeRuntimeToken(opts.run_id));
            cacheServer->authorize(cacheToken, opts.github.value("repository", std::string("local")));
            // Jailed jobs reach it only through their proxy, by a name pinned to its port (the
            // jail's own 127.0.0.1 is its loopback, and the proxy refuses the host's addresses).
            std::string url = cacheServer->baseUrl();
            if (executor->isolatesFilesystem()) {
                const std::string name = "actions-cache.nixjail.internal", port = std::to_string(cacheServer->port());
                opts.network.host_overrides[name] = "127.0.0.1:" + port;
                opts.network.service_hosts.push_back(name);
                url = "http://" + name + ":" + port + "/";
            }
            // First, so that an --env of the same name still wins.
            opts.env.insert(opts.env.begin(), {{"ACTIONS_CACHE_URL", url},
                                               {"ACTIONS_RUNTIME_TOKEN", cacheToken.reveal()}});
        } catch (const base::Error& e) {
            // A cache is an optimisation: the run goes on without one.
            std::fprintf(stderr, "nixjail-runner exec: warning: running without an actions/cache server: %s\n",
                         e.what());
            cacheServer.reset();
        }
    }
    // The artifact server behind ACTIONS_RUNTIME_URL (upload/download-artifact@v3) and
    // ACTIONS_RESULTS_URL (@v4), only when asked for: unlike a cache, artifacts are output the user
    // keeps, so they say where they go.
    std::unique_ptr<artifact_server::ArtifactServer> artifactServer;
    base::Secret artifactToken;
    if (!f.artifact_server_path.empty() && !f.dry_run) {
        artifactServer = std::make_unique<artifact_server::ArtifactServer>(
            artifact_server::ArtifactServerConfig{.dir = fs::absolute(f.artifact_server_path)});
        // One runtime token per run: the cache server's when it runs.
        artifactToken =
            cacheServer ? cacheToken : base::Secret(artifact_server::makeRuntimeToken(opts.run_id));
        artifactServer->authorize(artifactToken, opts.run_id);
        std::string url = artifactServer->baseUrl();
        if (executor->isolatesFilesystem()) {
            const std::string name = "artifacts.nixjail.internal", port = std::to_string(artifactServer->port());
            opts.network.host_overrides[name] = "127.0.0.1:" + port;
            opts.network.service_hosts.push_back(name);
            url = "http://" + name + ":" + port + "/";
        }
        std::vector<std::pair<std::string, std::string>> env{{"ACTIONS_RUNTIME_URL", url},
                                                             {"ACTIONS_RESULTS_URL", url}};
        if (!cacheServer) env.emplace_back("ACTIONS_RUNTIME_TOKEN", artifactToken.reveal());
        opts.env.insert(opts.env.begin(), env.begin(), env.end());
    }
    // Made on first use (most runs check out only the local working tree), unless --storage forces
    // a backend.
    std::unique_ptr<engine::CachedCheckouts> checkouts;
    // A forced --storage is proven now, so a backend that cannot work stops the run before any job.
    if (storage && !f.dry_run)
        checkouts = std::make_unique<engine::CachedCheckouts>(cacheDir, storage);
    std::mutex checkoutsMu;
    opts.checkout_provider = [&](const engine::CheckoutSpec& spec, const fs::path& dst) {
        {
            std::lock_guard lock(checkoutsMu);
            if (!checkouts)
                checkouts = std::make_unique<engine::CachedCheckouts>(cacheDir, storage);
        }
        return checkouts->checkout(spec, dst);
    };
    std::unique_ptr<engine::NixRootProvider> roots;
    if (!f.packages.empty()) opts.packages = cache::parsePackageList(f.packages);
    // A repository flake's devShell serves jobs that declare no packages (no nixpkgs needed); other
    // jobs without packages get their runs-on label's default set.
    const bool hasFlake = fs::exists(opts.repo_dir / "flake.nix");
    if (executor->isolatesFilesystem()) {
        engine::NixRootConfig config{engine::nixpkgsArgument(f.nixpkgs, fs::current_path()), cacheDir,
                                     nixToolsFromEnvironment()};
        if (hasFlake) config.devshell_flake = opts.repo_dir;
        config.storage = storage;
        for (auto it = saved.default_packages.rbegin(); it != saved.default_packages.rend(); ++it)
            config.default_packages.prepend(it->first, it->second);
        // Found once, before any job; without one only a flake's devShell can serve.
        if (!f.dry_run) {
            try {
                const auto found = engine::locateNixpkgs(
                    f.nixpkgs, given.nixpkgs.empty() ? saved.nixpkgs_from : "--nixpkgs", fs::current_path(),
                    engine::nixCommand(config.tools));
                config.nixpkgs = found.expression;
                if (given.nixpkgs.empty())
                    std::fprintf(stderr, "nixjail-runner exec: packages come from '%s' (%s)\n",
                                 found.expression.c_str(), found.found_by.c_str());
            } catch (const base::Error&) {
                if (!hasFlake) throw;
            }
        }
        // A Nix that cannot build stops the run here, not every job at its nix-build.
        if (!f.dry_run) cache::checkNixCanBuild(config.tools);
        roots = std::make_unique<engine::NixRootProvider>(std::move(config));
        opts.root_provider = roots->asProvider();
    }
    // Where the cache's filesystem can share data (btrfs snapshots, reflinks), the jobs' directories
    // go there too, so their roots and checkouts are snapshots rather than copies; elsewhere
    // $TMPDIR serves as well.
    std::unique_ptr<base::TempDir> jobDirs;
    if (executor->isolatesFilesystem() && !f.dry_run && storage != cache::StorageKind::kCopy) {
        struct statfs sfs {};
        fs::create_directories(cacheDir);
        if (::statfs(cacheDir.c_str(), &sfs) == 0 && (sfs.f_type == BTRFS_SUPER_MAGIC || sfs.f_type == XFS_SUPER_MAGIC)) {
            if (const auto p = base::firstNotSearchableByOthers(cacheDir); !p.empty()) {
                std::fprintf(stderr,
                             "nixjail-runner exec: warning: job directories go to $TMPDIR, so roots and checkouts are "
                             "copies: the jails cannot reach '%s' ('%s' is not searchable by others; chmod o+x)\n",
                             cacheDir.c_str(), p.c_str());
            } else {
                fs::create_directories(cacheDir / "jobs");
                jobDirs = std::make_unique<base::TempDir>("nixjail-exec-", cacheDir / "jobs");
                fs::permissions(jobDirs->path(), fs::perms::group_exec | fs::perms::others_exec,
                                fs::perm_options::add);
                opts.work_dir = jobDirs->path();
            }
        }
    }

    // Which workflows: the event's, or with -j those that have the job.
    std::string event = f.event.empty() ? "push" : f.event;
    opts.event_name = event;
    std::vector<const workflow::Workflow*> selected;
    for (const auto& wf : workflows) {
        bool hasJob = f.jobs.empty() || std::any_of(f.jobs.begin(), f.jobs.end(), [&](const auto& j) { return wf.findJob(j); });
        if (!hasJob) continue;
        if (!f.jobs.empty() || wf.triggeredBy(event)) selected.push_back(&wf);
    }
    for (const auto& j : f.jobs) {
        if (std::none_of(workflows.begin(), workflows.end(), [&](const auto& wf) { return wf.findJob(j); })) {
            throw base::Error("no workflow has a job '" + j + "'; see --list");
        }
    }
    if (selected.empty()) {
        throw base::Error("no workflow is triggered by event '" + event + "'; choose one with --event or a job with -j (see --list)");
    }

    const bool colour = !f.no_color && ::isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
    engine::SecretMasker masker;
    for (const auto& [k, v] : opts.secrets) masker.add(v);
    if (cacheServer) masker.add(cacheToken.reveal());
    if (artifactServer) masker.add(artifactToken.reveal());
    auto isTrue = [](const std::map<std::string, std::string>& m) {
        auto it = m.find("ACTIONS_STEP_DEBUG");
        return it != m.end() && it->second == "true";
    };
    engine::ConsoleReporter console(stdout, colour, f.verbose || isTrue(opts.secrets) || isTrue(opts.vars));
    Json summary = Json{{"workflows", Json::array()}};
    std::vector<engine::JobReport> allJobs;
    engine::Result overall = engine::Result::kSuccess;
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
        if (report.result == engine::Result::kFailure) overall = engine::Result::kFailure;
        if (report.result == engine::Result::kCancelled && overall == engine::Result::kSuccess) {
            overall = engine::Result::kCancelled;
        }
        allJobs.insert(allJobs.end(), report.jobs.begin(), report.jobs.end());
    }
    if (f.dry_run) return 0;
    std::fputs("\n", stdout);
    std::fputs(engine::resultsTable(allJobs, colour).c_str(), stdout);
    summary["result"] = engine::resultName(overall);
    if (cacheServer) {
        const auto c = cacheServer->counters();
        summary["actions_cache"] = Json{{"hits", c.hits},
                                        {"misses", c.misses},
                                        {"bytes_uploaded", c.bytes_uploaded},
                                        {"bytes_downloaded", c.bytes_downloaded},
                                        {"entries_saved", c.entries_committed},
                                        {"entries_evicted", c.entries_evicted}};
    }
    if (!f.json_summary.empty()) base::writeFileAtomic(f.json_summary, summary.dump(2) + "\n");
    return overall == engine::Result::kSuccess ? 0 : 1;
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
