// `nixjail-runner replay JOB_ID`: run a job the daemon ran again, here, from its record in the job
// database: the same workflow, commit (checked out by the workflow's actions/checkout through the
// checkout cache), matrix combination, vars and root, through the daemon's own task path. Secrets
// are never recorded: they come from --secret-file/--secret, or are asked for on a terminal.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "runner/artifact_server/runtime_token.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/cli/cache_dirs.h"
#include "runner/cli/commands.h"
#include "runner/cli/exec_config.h"
#include "runner/cli/replay_report.h"
#include "runner/cli/secret_prompt.h"
#include "runner/config/runner_config.h"
#include "runner/daemon/cache_grant.h"
#include "runner/daemon/root_witness.h"
#include "runner/daemon/signal_watcher.h"
#include "runner/daemon/step_nesting.h"
#include "runner/daemon/task_plan.h"
#include "runner/engine/console_reporter.h"
#include "runner/engine/run_summary.h"
#include "runner/services/runner_services.h"

namespace nixjail::runner::cli {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct ReplayFlags {
    int64_t job_id = 0;
    std::string config, database, cache_dir, executor, nixpkgs, json_summary;
    std::vector<std::string> secrets, secret_files;
    bool no_color = false, verbose = false;
};

void note(const std::string& text) {
    std::fprintf(stderr, "nixjail-runner replay: %s\n", text.c_str());
}

// What the database holds of the job.
struct RecordedJob {
    store::JobRow row;
    daemon::ReplayRecord record;
    std::vector<store::StepRecord> steps;
};

std::string describe(const store::JobRow& row) {
    return fmt::format("job {} (task {}, {} / {} / {})", row.id, row.start.forge_task_id,
                       row.start.repo, row.start.workflow, row.start.job);
}

RecordedJob readRecordedJob(const fs::path& database, int64_t id) {
    // JobStore would create a database that is not there: say where none was found instead.
    if (!fs::exists(database)) {
        throw base::Error("no job database at '" + database.string() +
                          "'; give the daemon's configuration with --config FILE or the database "
                          "with --database PATH");
    }
    store::JobStore db(database);
    auto row = db.job(id);
    if (!row) {
        throw base::Error(fmt::format(
            "no job {} in '{}'; `nixjail-runner jobs` lists the jobs recorded there (JOB_ID is "
            "the ID column, not the forge's task number)",
            id, database.string()));
    }
    auto text = db.replayRecord(id);
    if (!text) {
        throw base::Error(describe(*row) +
                          " has no replay record: it was recorded by a nixjail-runner from before "
                          "jobs kept what a replay needs (database migration 007), so it cannot be "
                          "replayed; jobs the daemon runs from now on can");
    }
    try {
        return {*row, daemon::parseReplayRecord(*text), db.steps(id)};
    } catch (const base::Error& e) {
        throw base::Error(describe(*row) + " in '" + database.string() + "': " + e.what());
    }
}

struct ReplaySecrets {
    std::map<std::string, std::string> values;
    std::vector<std::string> missing;  // the job had them, nobody gave them: empty
    std::string token;                 // for the task's token, if one was given
};

// --secret-file and --secret as exec reads them; what the job had and they lack is asked for on
// a terminal, else left empty. The task's token expired with the task: one given under any of
// its names (GITHUB_TOKEN, ...) serves for all of them and github.token.
ReplaySecrets gatherSecrets(const ReplayFlags& f, const RecordedJob& job) {
    ExecFlags given;
    given.secrets = f.secrets;
    given.secret_files = f.secret_files;
    ReplaySecrets out;
    out.values = execValues(given).secrets;
    const bool ask = ::isatty(STDIN_FILENO);
    for (const auto& name : job.record.secret_names) {
        if (out.values.count(name)) continue;
        if (ask) {
            out.values[name] =
                askSecret(STDIN_FILENO, "secret " + name + " of job " + std::to_string(job.row.id) +
                                            " (not echoed; Enter alone leaves it empty): ");
        } else {
            out.missing.push_back(name);
            out.values[name] = "";
        }
    }
    for (const auto& name : job.record.token_secret_names) {
        if (auto it = out.values.find(name); it != out.values.end() && !it->second.empty()) {
            out.token = it->second;
            break;
        }
    }
    for (const auto& name : job.record.token_secret_names) out.values[name] = out.token;
    return out;
}

// The daemon's configuration with the replay's own choices; `actions_cache`: see below.
config::RunnerConfig replayConfig(config::RunnerConfig cfg, const ReplayFlags& f,
                                  const daemon::ReplayRecord& record,
                                  const fs::path& actions_cache) {
    if (!f.cache_dir.empty()) cfg.cache.dir = f.cache_dir;
    if (!f.executor.empty()) cfg.executor.backend = f.executor;
    // The same nixpkgs, as the daemon resolved its setting (a relative path from its directory).
    if (!f.nixpkgs.empty())
        cfg.nix.nixpkgs = f.nixpkgs;
    else if (record.root && !record.root->nixpkgs.empty())
        cfg.nix.nixpkgs = record.root->nixpkgs;
    // The daemon's actions/cache directory belongs to its server alone (a second server there
    // would take the daemon's uploads in progress for leftovers): the replay gets an empty one.
    cfg.cache.actions_cache_dir = actions_cache;
    return cfg;
}

// The recorded combination, as --matrix filters, so the instance planned is the one that ran.
std::vector<std::pair<std::string, std::string>> matrixFilter(const Json& matrix) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [k, v] : matrix.items())
        out.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
    return out;
}

// Passes everything to the console and keeps the job's own steps' results, counted as the
// daemon's recorder counts them (no pre steps, no nested steps).
class StepResults : public actions::JobObserver {
  public:
    explicit StepResults(actions::JobObserver& console) : console_(console) {}
    void stepStarted(const actions::StepRecord& s) override {
        console_.stepStarted(s);
        if (!s.pre) nesting_.started();
    }
    void line(const actions::LogLine& l) override { console_.line(l); }
    void stepFinished(const actions::StepRecord& s) override {
        console_.stepFinished(s);
        if (s.pre) return;
        if (auto index = nesting_.finished())
            results_.push_back({*index, s.name, actions::resultName(s.conclusion)});
    }
    void phaseFinished(const actions::PhaseRecord& p) override { console_.phaseFinished(p); }
    const std::vector<StepResult>& results() const { return results_; }

  private:
    actions::JobObserver& console_;
    daemon::StepNesting nesting_;
    std::vector<StepResult> results_;
};

bool stepDebug(const forge::Task& task) {
    for (const auto* m : {&task.secrets, &task.vars}) {
        auto it = m->find("ACTIONS_STEP_DEBUG");
        if (it != m->end() && it->second == "true") return true;
    }
    return false;
}

void printNotes(const RecordedJob& job, const ReplaySecrets& secrets) {
    const auto& r = job.record;
    if (!secrets.missing.empty()) {
        note(
            fmt::format("warning: secrets of job {} not given: {}; the job runs with them empty "
                        "(give them with --secret-file FILE or -s NAME=VALUE)",
                        job.row.id, fmt::join(secrets.missing, ", ")));
    }
    if (!r.token_secret_names.empty() && secrets.token.empty()) {
        const auto& names = r.token_secret_names;
        const bool github = std::find(names.begin(), names.end(), "GITHUB_TOKEN") != names.end();
        note(
            fmt::format("the task's token (secrets {}, github.token) expired with the task, so "
                        "they are empty; give a token with -s {}=VALUE where a step needs one",
                        fmt::join(names, ", "), github ? "GITHUB_TOKEN" : names.front()));
    }
    if (!r.masked.empty()) {
        note(
            fmt::format("warning: a secret's value also occurred in the job's {} and was recorded "
                        "as ***; the replay runs it so",
                        fmt::join(r.masked, ", ")));
    }
}

int runReplay(const ReplayFlags& f) {
    const auto daemonConfig = config::loadConfigFile(f.config);
    const fs::path database = f.database.empty() ? daemonConfig.database : fs::path(f.database);
    const RecordedJob job = readRecordedJob(database, f.job_id);
    const ReplaySecrets secrets = gatherSecrets(f, job);
    printNotes(job, secrets);

    // Before any thread: they all inherit the blocked signals, which cancel the job instead.
    std::stop_source stop;
    daemon::SignalWatcher signals([&](int sig) {
        note(std::string("received ") + strsignal(sig) + ", cancelling the job");
        stop.request_stop();
    });
    const base::TempDir actionsCache("nixjail-replay-actions-cache-");
    const auto cfg = replayConfig(daemonConfig, f, job.record, actionsCache.path());
    // The daemon's services, as the daemon builds them; its jobs' directories are
    // <cache>/jobs/nixjail-daemon-replay-<pid>, which no daemon sweeps, removed at the end.
    services::RunnerServices services(
        cfg, services::ServicesContext{.role = services::ServicesContext::Role::kDaemon,
                                       .default_cache_dir = defaultCacheDir(),
                                       .nix_tools = nixToolsFromEnvironment(),
                                       .runner_uuid = "replay-" + std::to_string(::getpid())});
    daemon::JobResources res;
    res.config = &cfg;
    res.job_defaults = services.jobDefaults();
    res.job_defaults.action_cache_dir = services.cacheDir() / "actions";
    res.job_defaults.matrix_filter = matrixFilter(job.record.matrix);
    res.task_root_provider = [&services](const Json& github) {
        return services.rootsForTask(github);
    };
    res.label_policies = services.labelPolicies();
    res.forge_address = daemon::contextString(job.record.context, "server_url");
    res.actions_cache = services.actionsCache();
    res.actions_cache_url = services.actionsCacheUrl();

    forge::Task task = daemon::taskOf(job.record, job.row.start.forge_task_id, secrets.values);
    if (!secrets.token.empty()) task.context["token"] = secrets.token;
    // A token of the replay's own for its actions/cache server; the forge refuses it, so a replay
    // never uploads anything (artifacts) there.
    const std::string run_id = daemon::contextString(task.context, "run_id");
    task.context["gitea_runtime_token"] =
        artifact_server::makeRuntimeToken(run_id.empty() ? "1" : run_id);
    actions::SecretMasker masker;
    for (const auto& [k, v] : task.secrets) masker.add(v);
    masker.add(daemon::runtimeToken(task));
    const daemon::CacheGrant cacheGrant(res.actions_cache, task);

    daemon::RootWitness witness;  // what the replay's root is made from, to compare
    daemon::PreparedJob p;        // its root provider refers to the witness
    daemon::prepareTask(p, task, res);
    if (!job.record.job_id.empty() && p.instance.matrix != job.record.matrix) {
        throw base::Error("the recorded workflow plans matrix " + p.instance.matrix.dump() +
                          " where " + describe(job.row) + " ran " + job.record.matrix.dump());
    }
    // The packages the job's root was made from then, whatever the configuration says now.
    if (job.record.root) p.options.packages = job.record.root->packages;
    if (p.options.root_provider)
        p.options.root_provider = witness.wrap(std::move(p.options.root_provider));

    const std::string sha = daemon::contextString(task.context, "sha");
    fmt::print("Replaying {} (recorded: {}): {}{} from {}\n", describe(job.row), job.row.status,
               p.instance.display_name, sha.empty() ? "" : " at " + sha, res.forge_address);
    const bool colour = !f.no_color && ::isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
    engine::ConsoleReporter console(stdout, colour, f.verbose || stepDebug(task));
    auto observer = console.jobStarted(p.instance);
    StepResults steps(*observer);
    const auto outcome = engine::runJob(p.instance, p.options, steps, masker, stop.get_token());
    console.jobFinished(p.instance, outcome);

    const engine::JobReport report{p.job->id, p.instance.display_name, p.instance.matrix, outcome};
    const auto comparison =
        compareReplay(job.steps, steps.results(), job.record.root, witness.seen());
    fmt::print("\n{}\n{}", engine::resultsTable({report}, colour), comparisonText(comparison));
    std::fflush(stdout);
    for (const auto& w : comparisonWarnings(comparison)) note("warning: " + w);
    if (!f.json_summary.empty()) {
        const engine::WorkflowReport run{{report}, outcome.result, outcome.duration};
        Json replay = comparisonJson(comparison);
        replay["job_id"] = job.row.id;
        replay["forge_task_id"] = job.row.start.forge_task_id;
        replay["recorded_status"] = job.row.status;
        replay["missing_secrets"] = secrets.missing;
        replay["masked"] = job.record.masked;
        const Json summary{
            {"workflows", Json::array({engine::workflowSummary(job.row.start.workflow, "", run)})},
            {"result", actions::resultName(outcome.result)},
            {"replay", replay}};
        base::writeFileAtomic(f.json_summary, summary.dump(2) + "\n");
    }
    return outcome.result == actions::Result::kSuccess ? 0 : 1;
}

}  // namespace

void addReplayCommand(CLI::App& app, int& exit_code) {
    auto f = std::make_shared<ReplayFlags>();
    auto* cmd = app.add_subcommand(
        "replay",
        "Run a job the daemon ran again, here, from its record: the same workflow, commit, matrix "
        "combination, vars and packages; secrets from --secret-file/--secret or asked for");
    cmd->add_option("JOB_ID", f->job_id,
                    "the job's ID in the job database (see `nixjail-runner jobs`)")
        ->required();
    cmd->add_option(
        "-c,--config", f->config,
        "the daemon's configuration file (its database, cache directory, executor, labels)");
    cmd->add_option("--database,--db", f->database,
                    "the job database (default: `database` from the configuration)");
    cmd->add_option("-s,--secret", f->secrets, "secret K=V, or K to take it from $K; repeatable");
    cmd->add_option("--secret-file", f->secret_files, "file of KEY=VALUE secrets; repeatable");
    cmd->add_option("--executor", f->executor,
                    "where steps run (default: the configuration's executor.backend): auto, "
                    "namespace, systemd or host");
    cmd->add_option(
        "--cache-dir", f->cache_dir,
        "where roots and checkouts are cached (default: the configuration's cache.dir)");
    cmd->add_option(
        "--nixpkgs", f->nixpkgs,
        "resolve the packages in this nixpkgs instead of the one the job's root came from");
    cmd->add_option(
        "--json-summary", f->json_summary,
        "write the job, its steps, and how they and the closure compare with the record, as JSON");
    cmd->add_flag("--no-color", f->no_color, "never colour the output");
    cmd->add_flag("-v,--verbose", f->verbose, "show ::debug:: lines and each step's shell command");
    cmd->callback([f, &exit_code] {
        try {
            exit_code = runReplay(*f);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "nixjail-runner replay: %s\n", e.what());
            exit_code = 1;
        }
    });
}

}  // namespace nixjail::runner::cli
