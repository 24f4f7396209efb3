// One task from payload to reported result: parse, plan the job, run it with a reporter and a
// recorder attached, poll the forge for cancellation, report the end (retrying while it is away).
#include "runner/daemon/task_runner.h"

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <condition_variable>
#include <thread>

#include "runner/base/error.h"
#include "runner/daemon/job_recorder.h"
#include "runner/daemon/task_reporter.h"
#include "runner/engine/repository_network_fetch.h"
#include "runner/engine/workflow_runner.h"
#include "runner/workflow/workflow_loader.h"

namespace nixjail::runner::daemon {

namespace {

using Json = nlohmann::json;

// Forwards every event to the forge reporter and the database recorder. Both count the top-level
// steps they are told about as the job's steps, so a pre step run at the job's start is not one:
// its lines belong to the job's set-up, before its first step.
class TeeObserver : public actions::JobObserver {
  public:
    TeeObserver(actions::JobObserver& a, actions::JobObserver& b) : a_(a), b_(b) {}
    void stepStarted(const actions::StepRecord& s) override {
        if (s.pre) return;
        a_.stepStarted(s);
        b_.stepStarted(s);
    }
    void line(const actions::LogLine& l) override {
        a_.line(l);
        b_.line(l);
    }
    void stepFinished(const actions::StepRecord& s) override {
        if (s.pre) return;
        a_.stepFinished(s);
        b_.stepFinished(s);
    }
    void phaseFinished(const actions::PhaseRecord& p) override {
        a_.phaseFinished(p);
        b_.phaseFinished(p);
    }

  private:
    actions::JobObserver& a_;
    actions::JobObserver& b_;
};

std::vector<std::string> runsOnLabels(const Json& runs_on) {
    std::vector<std::string> out;
    const Json& list =
        runs_on.is_object() && runs_on.contains("labels") ? runs_on["labels"] : runs_on;
    if (list.is_string()) out.push_back(list.get<std::string>());
    if (list.is_array()) {
        for (const auto& l : list) {
            if (l.is_string()) out.push_back(l.get<std::string>());
        }
    }
    return out;
}

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
    return out;
}

std::string contextString(const Json& ctx, const char* key) {
    if (!ctx.contains(key)) return "";
    const auto& v = ctx[key];
    return v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump();
}

// The token for the artifact and cache APIs: the runtime token, or the task token on forges too
// old to send one.
std::string runtimeToken(const forge::Task& task) {
    const std::string runtime = contextString(task.context, "gitea_runtime_token");
    return runtime.empty() ? contextString(task.context, "token") : runtime;
}

// While a task runs, its runtime token may use the runner's actions/cache server: saving into
// the repository's scope for the task's ref, restoring from it and then from the default branch's
// (GitHub's rule); revoked when the task ends.
class CacheGrant {
  public:
    CacheGrant(cache_server::CacheServer* server, const forge::Task& task)
        : server_(server), token_(runtimeToken(task)) {
        if (!server_ || token_.reveal().empty()) {
            server_ = nullptr;
            return;
        }
        const std::string repo = contextString(task.context, "repository");
        const std::string ref = contextString(task.context, "ref");
        std::string default_branch;
        const Json& ctx = task.context;
        if (ctx.contains("event") && ctx["event"].is_object() && ctx["event"].contains("repository") &&
            ctx["event"]["repository"].is_object()) {
            const auto& r = ctx["event"]["repository"];
            if (r.contains("default_branch") && r["default_branch"].is_string())
                default_branch = r["default_branch"].get<std::string>();
        }
        const std::string write = ref.empty() ? repo : repo + "@" + ref;
        std::vector<std::string> reads{write};
        if (!default_branch.empty() && ref != "refs/heads/" + default_branch)
            reads.push_back(repo + "@refs/heads/" + default_branch);
        server_->authorize(token_, write, reads);
    }
    ~CacheGrant() {
        if (server_) server_->revoke(token_);
    }
    // What the task's job did with the cache so far; none without a cache server.
    std::optional<store::ActionsCacheUsage> usage() const {
        if (!server_) return std::nullopt;
        const auto u = server_->usage(token_);
        return store::ActionsCacheUsage{static_cast<int64_t>(u.hits), static_cast<int64_t>(u.misses),
                                        static_cast<int64_t>(u.bytes_saved),
                                        static_cast<int64_t>(u.bytes_restored)};
    }
    CacheGrant(const CacheGrant&) = delete;
    CacheGrant& operator=(const CacheGrant&) = delete;

  private:
    cache_server::CacheServer* server_;
    base::Secret token_;
};

// What a task needs to run: the parsed workflow (which the instance points into) and options.
struct PreparedJob {
    std::unique_ptr<workflow::Workflow> workflow;
    const workflow::Job* job = nullptr;
    engine::JobInstance instance;
    engine::RunOptions options;
    std::vector<std::string> labels;
};

// The payload holds one job, whose `needs` name jobs that ran elsewhere (their results come in
// Task.needs). Like the reference runners, stand-in jobs for those make the workflow whole.
std::optional<std::string> withNeedStubs(const std::string& yaml, const forge::Task& task) {
    try {
        YAML::Node root = YAML::Load(yaml);
        if (!root.IsMap() || !root["jobs"] || !root["jobs"].IsMap()) return std::nullopt;
        YAML::Node jobs = root["jobs"];
        for (const auto& [id, need] : task.needs) {
            if (jobs[id]) continue;
            YAML::Node stub;
            stub["runs-on"] = "nixjail-need-stub";
            YAML::Node step;
            step["run"] = "true";
            stub["steps"].push_back(step);
            jobs[id] = stub;
        }
        YAML::Emitter out;
        out << root;
        return std::string(out.c_str());
    } catch (const YAML::Exception&) {
        return std::nullopt;
    }
}

// The admin lets the task repository's .nixjail-network.yaml narrow the policy and bind secrets
// (runner/network/repository_network.h).
void addRepositoryNetwork(engine::RunOptions& o) {
    const auto repo = engine::repositoryOfTask(o.github);
    if (!repo) {
        o.network.notes.push_back("proxy.repository_policy: the task names no repository and commit; "
                                  "no network file read");
        return;
    }
    auto file = engine::fetchRepositoryNetwork(o.checkout_provider, *repo, o.work_dir);
    if (!file) {
        o.network.notes.push_back("proxy.repository_policy: " + repo->url + " has no " +
                                  network::kRepositoryNetworkFile + " at " + repo->commit.substr(0, 12));
        return;
    }
    for (auto& note : network::applyRepositoryNetwork(std::move(*file), o.network))
        o.network.notes.push_back(std::move(note));
}

void prepare(PreparedJob& p, const forge::Task& task, const JobResources& res) {
    const std::string name = "task " + std::to_string(task.id) + " workflow";
    auto parsed = workflow::parseWorkflow(task.workflow_payload, name);
    if (!parsed && !task.needs.empty()) {
        // Diagnostics stay those of the original text; the stubbed one only has to parse.
        if (auto stubbed = withNeedStubs(task.workflow_payload, task)) {
            if (auto again = workflow::parseWorkflow(*stubbed, name)) parsed = std::move(again);
        }
    }
    if (!parsed) {
        throw base::Error("the task's workflow is invalid:\n" +
                          workflow::formatAll(parsed.error()));
    }
    p.workflow = std::make_unique<workflow::Workflow>(std::move(*parsed));
    std::vector<const workflow::Job*> own;
    for (const auto& j : p.workflow->jobs) {
        if (!task.needs.count(j.id)) own.push_back(&j);
    }
    if (own.size() != 1) {
        throw base::Error("the task's workflow has " + std::to_string(own.size()) +
                          " jobs to run; a forge task carries exactly one");
    }
    p.job = own.front();
    p.labels = runsOnLabels(p.job->runs_on);

    const config::RunnerConfig& cfg = *res.config;
    auto& o = p.options;
    o = res.job_defaults;
    const Json& ctx = task.context;
    o.github = ctx.is_object() ? ctx : Json::object();
    o.github.erase("event");
    if (contextString(o.github, "server_url").empty()) o.github["server_url"] = res.forge_address;
    o.event_name =
        contextString(ctx, "event_name").empty() ? "push" : contextString(ctx, "event_name");
    if (ctx.contains("event") && ctx["event"].is_object()) o.event = ctx["event"];
    if (o.event.contains("inputs") && o.event["inputs"].is_object()) {
        for (const auto& [k, v] : o.event["inputs"].items())
            o.inputs[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
    o.secrets = task.secrets;
    o.vars = task.vars;
    // What the forge expects every job to get (shared/spec/forge-protocol.md 3.8), first so that
    // the workflow's own env may override it. The tokens are the task's real ones here; a jailed
    // job sees only their dummies (the engine swaps every value equal to one).
    std::string server = contextString(o.github, "server_url");
    while (!server.empty() && server.back() == '/') server.pop_back();
    std::vector<std::pair<std::string, std::string>> exports = {
        {"ACTIONS_RUNTIME_URL", server + "/api/actions_pipeline/"},
        {"ACTIONS_RESULTS_URL", server},
        {"ACTIONS_RUNTIME_TOKEN", runtimeToken(task)},
        {"GITEA_ACTIONS", "true"},
        {"GITEA_ACTIONS_RUNNER_VERSION", "nixjail-runner 0.1.0"}};
    if (res.actions_cache) exports.emplace_back("ACTIONS_CACHE_URL", res.actions_cache_url);
    o.env.insert(o.env.begin(), exports.begin(), exports.end());
    if (auto url = contextString(ctx, "gitea_default_actions_url"); !url.empty())
        o.default_actions_url = url;
    if (auto id = contextString(ctx, "run_id"); !id.empty()) o.run_id = id;
    if (auto n = contextString(ctx, "run_number"); !n.empty()) o.run_number = n;
    // A job that declares no packages gets its repository flake's devShell at the task's commit
    // (fetched outside the jail with the task's real token).
    if (res.task_root_provider) o.root_provider = res.task_root_provider(o.github);
    if (cfg.proxy.repository_policy) addRepositoryNetwork(o);
    o.max_parallel_jobs = 1;
    o.limits.wall_time = cfg.runner.job_timeout;
    o.runner_job_timeout = cfg.runner.job_timeout;
    for (const auto& l : p.labels) {
        auto it = cfg.labels.find(l);
        if (it == cfg.labels.end()) continue;
        o.packages.insert(o.packages.end(), it->second.packages.begin(), it->second.packages.end());
        // "jit-runtime" is the old name of what is now the default.
        if (it->second.profile == "strict") o.profile = executor::HardeningProfile::kStrict;
        if (auto policy = res.label_policies.find(l); policy != res.label_policies.end()) {
            o.network.label_policy = policy->second;
        }
        break;
    }

    Json needs = Json::object();
    for (const auto& [id, need] : task.needs) {
        std::string result = forge::resultName(need.result);
        result = result.substr(result.find('_') + 1);
        for (auto& c : result) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        needs[id] = Json{{"result", result}, {"outputs", Json(need.outputs)}};
    }
    std::string error;
    auto instances = engine::planInstances(*p.workflow, *p.job, o, needs, &error);
    if (!error.empty()) throw base::Error("cannot plan job '" + p.job->id + "': " + error);
    if (instances.empty())
        throw base::Error("job '" + p.job->id + "' expands to no matrix combination");
    p.instance = std::move(instances.front());
}

// The engine stops a job at runner.job_timeout itself (RunOptions::runner_job_timeout), its step
// as timed out; the Flusher stops it this long after that only if the engine has not, e.g. when
// preparing the job's root took the time.
constexpr std::chrono::seconds kJobTimeoutBackstop{30};

// Uploads logs and state every `interval` while the job runs, and turns the forge's cancellation
// or, as a backstop, the runner's job timeout into a stop of the job.
class Flusher {
  public:
    Flusher(TaskReporter& reporter, std::stop_source& job_stop, const JobResources& res,
            std::shared_ptr<spdlog::logger> log)
        : reporter_(reporter),
          job_stop_(job_stop),
          metrics_(*res.metrics),
          log_(std::move(log)),
          interval_(res.flush_interval),
          deadline_(std::chrono::steady_clock::now() + res.config->runner.job_timeout +
                    kJobTimeoutBackstop),
          thread_([this](std::stop_token st) { loop(st); }) {}

    bool cancelledByForge() const { return by_forge_; }
    bool timedOut() const { return timed_out_; }
    void stop() {
        thread_.request_stop();
        if (thread_.joinable()) thread_.join();
    }
    ~Flusher() { stop(); }

  private:
    void loop(std::stop_token st) {
        int failures = 0;
        while (!st.stop_requested()) {
            try {
                if (reporter_.flush() == forge::Result::Cancelled && !job_stop_.stop_requested()) {
                    log_->info("the forge cancelled task {}, stopping the job", reporter_.taskId());
                    by_forge_ = true;
                    job_stop_.request_stop();
                }
                failures = 0;
            } catch (const std::exception& e) {
                metrics_.reportError();
                if (failures++ == 0)
                    log_->warn("updating the forge failed, retrying: {}", e.what());
            }
            if (std::chrono::steady_clock::now() >= deadline_ && !job_stop_.stop_requested()) {
                log_->warn("task {} exceeded runner.job_timeout, stopping it", reporter_.taskId());
                timed_out_ = true;
                job_stop_.request_stop();
            }
            std::mutex m;
            std::condition_variable_any cv;
            std::unique_lock lock(m);
            cv.wait_for(lock, st, interval_, [] { return false; });
        }
    }

    TaskReporter& reporter_;
    std::stop_source& job_stop_;
    Metrics& metrics_;
    std::shared_ptr<spdlog::logger> log_;
    std::chrono::milliseconds interval_;
    std::chrono::steady_clock::time_point deadline_;
    std::atomic<bool> by_forge_{false}, timed_out_{false};
    std::jthread thread_;  // last: starts once the members it uses exist
};

std::string statusName(forge::Result r) {
    switch (r) {
        case forge::Result::Success:
            return "success";
        case forge::Result::Cancelled:
            return "cancelled";
        case forge::Result::Skipped:
            return "skipped";
        default:
            return "failure";
    }
}

// GitHub's rule for step debug logging: ACTIONS_STEP_DEBUG is true in the secrets or the vars.
bool stepDebug(const forge::Task& task) {
    auto isTrue = [](const std::map<std::string, std::string>& m) {
        auto it = m.find("ACTIONS_STEP_DEBUG");
        return it != m.end() && it->second == "true";
    };
    return isTrue(task.secrets) || isTrue(task.vars);
}

std::string failedStepReason(const engine::JobOutcome& outcome) {
    for (const auto& s : outcome.steps) {
        if (s.conclusion != actions::Result::kFailure) continue;
        std::string reason = "step '" + s.name + "' failed";
        if (!s.error.empty()) return reason + ": " + s.error;
        if (s.exit_code >= 0) return reason + " with exit code " + std::to_string(s.exit_code);
        return reason;
    }
    return "";
}

}  // namespace

TaskResult runTask(const forge::Task& task, const JobResources& res, std::stop_token cancel,
                   std::stop_token give_up) {
    auto log = res.log->clone("task " + std::to_string(task.id));
    actions::SecretMasker masker;
    for (const auto& [k, v] : task.secrets) masker.add(v);
    masker.add(contextString(task.context, "token"));
    masker.add(contextString(task.context, "gitea_runtime_token"));

    CacheGrant cache_grant(res.actions_cache, task);
    PreparedJob p;
    std::string prepare_error;
    try {
        prepare(p, task, res);
    } catch (const std::exception& e) {
        prepare_error = masker.mask(e.what());
    }
    const std::string job_id = p.job ? p.job->id : "";
    log->info("task received: repository '{}', workflow '{}', job '{}' task={}",
              contextString(task.context, "repository"), contextString(task.context, "workflow"),
              job_id, task.id);

    TaskReporter reporter(*res.client, task.id, p.job ? p.job->steps.size() : 0, log,
                          stepDebug(task));
    JobRecorder recorder(*res.store, *res.metrics, log);
    store::JobStart start;
    start.forge_task_id = task.id;
    start.repo = contextString(task.context, "repository");
    start.workflow = contextString(task.context, "workflow");
    start.job = job_id.empty() ? "?" : job_id;
    start.matrix = p.instance.matrix.empty() ? "" : p.instance.matrix.dump();
    start.labels = joined(p.labels);
    start.started_at_ms = nowMs();
    recorder.start(start);

    forge::Result result = forge::Result::Failure;
    std::string reason;
    std::map<std::string, std::string> outputs;
    if (!prepare_error.empty()) {
        reporter.line({actions::LineKind::kError, prepare_error});
        reason = prepare_error;
        log->warn("task {} failed before it ran: {}", task.id, prepare_error);
    } else {
        reporter.runnerLine("nixjail-runner: running job '" + p.instance.display_name + "' (task " +
                            std::to_string(task.id) + ") with the " + res.job_defaults.executor->name() +
                            " executor");
        std::stop_source job_stop;
        std::stop_callback on_shutdown(cancel, [&] { job_stop.request_stop(); });
        TeeObserver observer(reporter, recorder);
        Flusher flusher(reporter, job_stop, res, log);
        try {
            auto outcome =
                engine::runJob(p.instance, p.options, observer, masker, job_stop.get_token());
            result = toForgeResult(outcome.result);
            outputs = outcome.outputs;
            for (const auto& record : outcome.network_audit) recorder.networkDecision(record);
            std::vector<store::JailCheckRecord> checks;
            for (const auto& c : outcome.jail_checks) checks.push_back({c.name, c.passed, c.detail});
            recorder.jailChecks(checks);
            reason = outcome.error.empty() ? failedStepReason(outcome) : outcome.error;
        } catch (const std::exception& e) {
            reason = masker.mask(std::string("internal error: ") + e.what());
            reporter.line({actions::LineKind::kError, reason});
            result = forge::Result::Failure;
        }
        flusher.stop();
        if (flusher.timedOut()) {
            result = forge::Result::Failure;
            reason = "the job exceeded runner.job_timeout and was stopped";
            reporter.line({actions::LineKind::kError, reason});
        } else if (result == forge::Result::Cancelled) {
            reason = flusher.cancelledByForge() ? "cancelled on the forge"
                                                : "cancelled: the runner is shutting down";
        }
    }
    const std::string status = statusName(result);
    if (auto usage = cache_grant.usage()) recorder.actionsCache(*usage);
    recorder.finish(status, result == forge::Result::Success ? "" : reason);
    log->info("task {} finished: {}{}", task.id, status, reason.empty() ? "" : " (" + reason + ")");

    TaskResult out{result, false};
    try {
        reporter.finish(result, outputs, give_up);
        out.reported = true;
    } catch (const std::exception& e) {
        log->error("the forge did not take the result of task {} ({}); it is recorded locally: {}",
                   task.id, status, e.what());
    }
    return out;
}

}  // namespace nixjail::runner::daemon
