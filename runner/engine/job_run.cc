// The step loop of a job: conditions, status, continue-on-error, timeouts, contexts, outputs.
#include "runner/engine/job_run.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "runner/base/beneath.h"
#include "runner/base/error.h"
#include "workspace-cache/closure.h"
#include "runner/base/file_io.h"
#include "runner/base/scope_exit.h"
#include "runner/engine/event_context.h"
#include "runner/engine/missing_program.h"
#include "runner/actions/step_command_files.h"
#include "runner/engine/working_tree.h"
#include "runner/network/forge_credentials.h"
#include "runner/network/forge_pin.h"

namespace nixjail::runner::engine {

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

Json toJson(const std::map<std::string, std::string>& m) {
    Json out = Json::object();
    for (const auto& [k, v] : m) out[k] = v;
    return out;
}

// timeout-minutes: a number (fractions allowed) -> milliseconds; nullopt for null or invalid.
std::optional<std::chrono::milliseconds> minutes(const Json& v) {
    if (v.is_number() && v.get<double>() > 0) {
        return std::chrono::milliseconds(static_cast<long long>(v.get<double>() * 60000));
    }
    return std::nullopt;
}

}  // namespace

namespace {

std::chrono::milliseconds since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

}  // namespace

JobRun::JobRun(const JobInstance& instance, const RunOptions& opts, JobObserver& observer,
               SecretMasker& masker, std::stop_token cancel)
    : instance_(instance),
      opts_(opts),
      plan_(job::planJob(opts.executor->name(), opts.executor->traits(),
                         {.profile = opts.profile, .disk_max_bytes = opts.limits.disk_max_bytes})),
      observer_(observer),
      masker_(masker),
      forward_cancel_(cancel, std::function<void()>([this] { job_stop_.request_stop(); })) {}

void JobRun::log(LineKind kind, const std::string& text) { observer_.line({kind, masker_.mask(text)}); }

std::vector<std::string> JobRun::jobPackages() const {
    std::vector<std::string> out = opts_.packages;
    for (const auto& [k, v] : env_) {
        if (k != "NIXJAIL_PACKAGES") continue;
        for (const auto& p : cache::parsePackageList(v)) {
            if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
        }
    }
    return out;
}

void JobRun::prepareJail() {
    if (plan_.root == job::JobPlan::Root::kNixRoot) {
        sandbox_->makeRoot(opts_.root_provider, rootRequest());
        const JobRoot& root = *sandbox_->root();
        log(LineKind::kRunner, std::string("Job root: ") + (root.cacheHit() ? "cached" : "built") + " from " +
                                   root.source());
    }
    if (plan_.proxied()) {
        prepareNetwork();
    } else {
        log(LineKind::kRunner,
            "Network: the '" + plan_.backend +
                "' executor runs steps in the host's network, without the job's proxy "
                "or its policy (debugging only)");
    }
    sandbox_->makeJail(*opts_.executor, instance_.job->id, opts_.limits, missingProgramNote());
}

void JobRun::prepareNetwork() {
    const std::vector<std::string> forge = forgeHosts();
    network::NetworkSettings settings = opts_.network;
    settings.credentials = credentials_->all();
    const auto& server_url = github_["server_url"];
    if (auto pin = network::forgeHostPin(server_url.is_string() ? server_url.get<std::string>() : ""))
        settings.host_overrides.emplace(pin->first, pin->second);  // the admin's own pin wins
    sandbox_->makeNetwork(settings, instance_.job->id, forge);
    std::string allowed;
    for (const auto& h : forge) allowed += (allowed.empty() ? "" : ", ") + h;
    log(LineKind::kRunner,
        std::string(plan_.network == job::JobPlan::Network::kNamespaceProxy
                        ? "Network: the job's own namespace; its only way out is its proxy at 127.0.0.1:"
                        : "Network: the sandbox lets steps reach only their proxy at 127.0.0.1:") +
            std::to_string(sandbox_->network()->proxyPort()) +
            " (allowed: " + (allowed.empty() ? "no forge" : allowed) +
            (opts_.network.admin_policy.empty() ? "; nothing else"
                                                : " and what the policy allows") +
            (credentials_->all().empty()
                 ? std::string()
                 : "; credentials: " + std::to_string(credentials_->all().size())) +
            ")");
}

void JobRun::drainNetworkAudit(std::vector<proxy::AuditRecord> records) {
    for (auto& r : records) {
        const bool denied = r.decision == proxy::PolicyDecision::kDeny && r.enforced;
        log(denied ? LineKind::kError : LineKind::kRunner, "network: " + network::describeAudit(r));
        network_audit_.push_back(std::move(r));
    }
}

Json JobRun::envContext(const workflow::EnvList& extra) const {
    Json out = Json::object();
    for (const auto& [k, v] : env_) out[k] = v;
    for (const auto& [k, v] : extra) out[k] = v;
    return out;
}

expr::EvalContext JobRun::context(const StepScope* scope) const {
    expr::EvalContext ctx;
    expr::Value& c = ctx.contexts;
    c["github"] = github_;
    workflow::EnvList scopeEnv;
    if (scope) {
        scopeEnv = scope->env;
        scopeEnv.insert(scopeEnv.end(), scope->step_env.begin(), scope->step_env.end());
    }
    c["env"] = envContext(scopeEnv);
    c["vars"] = toJson(opts_.vars);
    // Credentials the proxy injects: the job only ever sees their dummies, under the admin's
    // credential names and wherever the forge sent a real value as a secret (GITHUB_TOKEN, ...).
    c["secrets"] = credentials_ ? credentials_->secretsContext(opts_.secrets) : toJson(opts_.secrets);
    const bool topFailed = top_ && top_->failed;
    c["job"] = Json{{"status", cancelled_ ? "cancelled" : topFailed ? "failure" : job_status_}};
    c["runner"] = Json{{"os", "Linux"},        {"arch", "X64"},
                       {"name", "nixjail-runner"}, {"temp", dirs_.temp.jail.string()},
                       {"tool_cache", dirs_.tool_cache.jail.string()}, {"debug", ""},
                       {"environment", "self-hosted"}};
    c["strategy"] = instance_.strategy;
    c["matrix"] = instance_.matrix;
    c["needs"] = instance_.needs;
    c["inputs"] = scope && !scope->action_path.empty() ? scope->inputs : instance_.inputs;
    c["steps"] = scope ? scope->steps : Json::object();
    if (!step_files_id_.empty()) {
        // The running step's command files, as GitHub's github.env and github.path name them.
        c["github"]["env"] =
            StepCommandFiles::jailPath(dirs_.temp.jail, step_files_id_, CommandFileKind::kEnv).string();
        c["github"]["path"] =
            StepCommandFiles::jailPath(dirs_.temp.jail, step_files_id_, CommandFileKind::kPath).string();
    }
    if (scope && !scope->action_path.empty()) {
        c["github"]["action_path"] = scope->action_path.string();
        c["github"]["action_repository"] = scope->action_repository;
    }
    const bool scopeFailed = (scope && scope->failed) || topFailed;
    ctx.success = [this, scopeFailed] { return !cancelled_ && job_status_ == "success" && !scopeFailed; };
    ctx.failure = [this, scopeFailed] { return !cancelled_ && (job_status_ == "failure" || scopeFailed); };
    ctx.cancelled = [this] { return cancelled_; };
    ctx.workspace = dirs_.workspace.host;
    return ctx;
}

std::string JobRun::evalString(const std::string& text, const StepScope* scope, const std::string& what) {
    auto r = expr::interpolate(text, context(scope));
    if (!r) throw base::Error("in " + what + ": " + r.error().format());
    return *r;
}

std::vector<std::string> JobRun::forgeHosts() const {
    std::vector<std::string> forge;
    for (const char* key : {"server_url", "api_url"}) {
        const auto& url = github_[key];
        std::string host = url.is_string() ? network::urlHost(url.get<std::string>()) : "";
        if (!host.empty() && std::find(forge.begin(), forge.end(), host) == forge.end())
            forge.push_back(host);
    }
    return forge;
}

void JobRun::prepareCredentials() {
    credentials_.emplace(plan_, opts_.network.credentials, github_, forgeHosts(),
                         opts_.network.service_hosts, masker_);
    credentials_->hideIn(github_);
}

void JobRun::prepareEnvironment() {
    const auto& wf = *instance_.workflow;
    const auto& job = *instance_.job;
    github_ = opts_.github.is_object() ? opts_.github : Json::object();
    github_["event_name"] = opts_.event_name;
    github_["event"] = opts_.event;
    github_["event_path"] = (dirs_.temp.jail / "event.json").string();
    github_["workspace"] = dirs_.workspace.jail.string();
    github_["job"] = job.id;
    github_["workflow"] = wf.name.empty() ? wf.file.filename().string() : wf.name;
    github_["run_id"] = opts_.run_id;
    github_["run_number"] = opts_.run_number;
    github_["run_attempt"] = "1";
    github_["action"] = "";
    github_["retention_days"] = "90";
    if (opts_.secrets.count("GITHUB_TOKEN")) github_["token"] = opts_.secrets.at("GITHUB_TOKEN");
    for (const char* key : {"repository", "repository_owner", "sha", "ref", "ref_name", "ref_type",
                            "actor", "triggering_actor", "server_url", "api_url", "graphql_url",
                            "head_ref", "base_ref"}) {
        if (!github_.contains(key)) github_[key] = "";
    }
    fillPullRequestRefs(github_, opts_.event_name, opts_.event);
    prepareCredentials();
    sandbox_->writeTempFile("event.json", opts_.event.dump(2), "the event file");

    // Workflow env, then --env, then job env; each may use the contexts available at that level.
    for (const auto* list : {&wf.env, &opts_.env, &job.env}) {
        for (const auto& [k, v] : *list) {
            std::string value = evalString(v, nullptr, "env '" + k + "'");
            std::erase_if(env_, [&](const auto& kv) { return kv.first == k; });
            env_.emplace_back(k, value);
        }
    }
    // The caller's env may carry a credential's real value (the daemon's ACTIONS_RUNTIME_TOKEN):
    // a jailed job gets its dummy there too.
    credentials_->hideIn(env_);
}

std::optional<std::chrono::milliseconds> JobRun::stepTimeout(const workflow::Step& step, const StepScope& scope) {
    std::optional<std::chrono::milliseconds> t;
    Json v = step.timeout_minutes;
    if (v.is_string()) {
        auto r = expr::evaluateTemplate(v.get<std::string>(), context(&scope));
        if (!r) throw base::Error("in timeout-minutes: " + r.error().format());
        v = *r;
        if (v.is_string()) {
            try {
                v = std::stod(v.get<std::string>());
            } catch (const std::exception&) {
                throw base::Error("timeout-minutes must be a number, got '" + v.get<std::string>() + "'");
            }
        }
    }
    t = minutes(v);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
    if (left < std::chrono::milliseconds(1)) left = std::chrono::milliseconds(1);
    if (!t || *t > left) t = left;
    return t;
}

std::string JobRun::stepDisplayName(const workflow::Step& step, const StepScope& scope) const {
    std::string name;
    if (!step.name.empty()) {
        auto r = expr::interpolate(step.name, context(&scope));
        name = r ? *r : step.name;
    } else if (!step.run.empty()) {
        std::string first = step.run.substr(0, step.run.find('\n'));
        name = "Run " + first;
    } else {
        name = "Run " + step.uses;
    }
    return scope.name_prefix.empty() ? name : scope.name_prefix + " / " + name;
}

bool JobRun::shouldRun(const workflow::Step& step, StepScope& scope, StepRecord& rec) {
    std::string cond = step.if_cond.empty() ? "success()" : step.if_cond;
    auto r = expr::evaluateCondition(cond, context(&scope));
    if (!r) {
        rec.error = "in 'if' of step '" + rec.name + "': " + r.error().format();
        throw base::Error(rec.error);
    }
    return *r;
}

StepRecord JobRun::runStep(const workflow::Step& step, StepScope& scope) {
    StepRecord rec;
    rec.index = next_index_++;
    rec.id = step.id;
    const auto start = Clock::now();
    // As GitHub's runner: the step's env is evaluated first (against the env context without it)
    // and merged into the env context its name, `if`, inputs and script see. An error in it fails
    // the step before its condition is looked at.
    std::optional<std::pair<std::string, std::string>> envError;  // the key, the problem
    // The step's command files are named now, so that github.env and github.path name them in
    // everything the step evaluates; runProcess makes them. A composite's nested steps name their
    // own, and the composite step gets its names back after them.
    const std::string outerFilesId = std::exchange(step_files_id_, uniqueName());
    base::ScopeExit restoreFilesId([this, outerFilesId] { step_files_id_ = outerFilesId; });
    scope.step_env.clear();
    base::ScopeExit clearStepEnv([&scope] { scope.step_env.clear(); });
    {
        workflow::EnvList own;
        const auto ctx = context(&scope);
        for (const auto& [k, v] : step.env) {
            auto r = expr::interpolate(v, ctx);
            if (!r) {
                envError.emplace(k, r.error().format());
                break;
            }
            std::erase_if(own, [&](const auto& kv) { return kv.first == k; });
            own.emplace_back(k, *r);
        }
        if (!envError) scope.step_env = std::move(own);
    }
    rec.name = masker_.mask(stepDisplayName(step, scope));
    bool ok = false;
    bool started = false;
    try {
        if (envError) {
            throw base::Error("in env '" + envError->first + "' of step '" + rec.name +
                              "': " + envError->second);
        }
        if (!shouldRun(step, scope, rec)) {
            rec.outcome = rec.conclusion = Result::kSkipped;
            observer_.stepFinished(rec);
            return rec;
        }
        observer_.stepStarted(rec);
        started = true;
        workflow::EnvList stepEnv = scope.env;
        for (const auto& [k, v] : scope.step_env) {
            std::erase_if(stepEnv, [&](const auto& kv) { return kv.first == k; });
            stepEnv.emplace_back(k, v);
        }
        if (!step.run.empty()) {
            ok = runScript(step, scope, rec, stepEnv, stepTimeout(step, scope));
        } else {
            ok = runAction(step, scope, rec, stepEnv);
        }
    } catch (const base::Error& e) {
        if (!started) observer_.stepStarted(rec);
        started = true;
        rec.error = masker_.mask(e.what());
        log(LineKind::kError, e.what());
        ok = false;
    }
    drainNetworkAudit(sandbox_->takeAuditRecords());
    rec.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    rec.outcome = ok ? Result::kSuccess : (cancelled_ ? Result::kCancelled : Result::kFailure);
    rec.conclusion = rec.outcome;
    if (rec.outcome == Result::kFailure) {
        Json coe = step.continue_on_error;
        if (coe.is_string()) {
            auto r = expr::evaluateTemplate(coe.get<std::string>(), context(&scope));
            if (!r) {
                log(LineKind::kError, "in continue-on-error: " + r.error().format());
                coe = false;
            } else {
                coe = *r;
            }
        }
        if (expr::isTruthy(coe)) rec.conclusion = Result::kSuccess;
    }
    if (rec.conclusion == Result::kFailure) scope.failed = true;
    if (!step.id.empty()) {
        scope.steps[step.id] = Json{{"outputs", toJson(rec.outputs)},
                                    {"outcome", resultName(rec.outcome)},
                                    {"conclusion", resultName(rec.conclusion)}};
    }
    observer_.stepFinished(rec);
    return rec;
}

bool JobRun::runSteps(const std::vector<workflow::Step>& steps, StepScope& scope) {
    for (const auto& step : steps) {
        if (job_stop_.stop_requested() && !cancelled_) {
            cancelled_ = true;
            if (timed_out_ || Clock::now() >= deadline_) {
                timed_out_ = true;
            } else {
                job_status_ = "cancelled";
            }
        }
        records_.push_back(runStep(step, scope));
        if (Clock::now() >= deadline_ && !timed_out_) {
            timed_out_ = true;
            job_stop_.request_stop();
        }
    }
    return !scope.failed;
}

void JobRun::finishOutputs(JobOutcome& outcome) {
    StepScope top;
    for (const auto& r : records_) {
        if (!r.id.empty()) {
            top.steps[r.id] = Json{{"outputs", toJson(r.outputs)},
                                   {"outcome", resultName(r.outcome)},
                                   {"conclusion", resultName(r.conclusion)}};
        }
    }
    for (const auto& [name, text] : instance_.job->outputs) {
        auto r = expr::interpolate(text, context(&top));
        if (!r) {
            log(LineKind::kError, "in job output '" + name + "': " + r.error().format());
            continue;
        }
        // As GitHub's runner: an empty output is not sent, and one the masker would change (a
        // secret or an ::add-mask:: value in it) is dropped with a warning rather than sent masked.
        if (r->empty()) continue;
        if (masker_.mask(*r) != *r) {
            log(LineKind::kWarning, "Skip output '" + name + "' since it may contain secret.");
            continue;
        }
        outcome.outputs[name] = *r;
    }
}

JobOutcome JobRun::run() {
    JobOutcome outcome;
    const auto start = Clock::now();
    auto jobTimeout = minutes(instance_.job->timeout_minutes).value_or(std::chrono::minutes(360));
    if (instance_.job->timeout_minutes.is_string()) {
        auto r = expr::evaluateTemplate(instance_.job->timeout_minutes.get<std::string>(), context(nullptr));
        if (r && minutes(*r)) jobTimeout = *minutes(*r);
    }
    const bool runnerCap = opts_.runner_job_timeout && *opts_.runner_job_timeout < jobTimeout;
    deadline_ = start + (runnerCap ? *opts_.runner_job_timeout : std::chrono::milliseconds(jobTimeout));
    std::chrono::milliseconds directories{0};
    std::optional<Clock::time_point> execStart;
    try {
        sandbox_ = std::make_unique<JobSandbox>(plan_, opts_.work_dir,
                                                [this](LineKind kind, const std::string& text) { log(kind, text); });
        dirs_ = sandbox_->dirs();
        prepareEnvironment();
        if (opts_.workspace_from_repo && !opts_.repo_dir.empty()) {
            log(LineKind::kRunner, "Workspace: a copy of the working tree '" + opts_.repo_dir.string() +
                                       "' (tracked and untracked files .gitignore does not exclude)");
            copyWorkingTree(opts_.repo_dir, dirs_.workspace.host);
        }
        directories = since(start);
        // Set up job: an isolating executor's root must hold node if a JavaScript action needs it.
        if (plan_.node_in_root && jobUsesNodeActions()) {
            needs_node_ = true;
            log(LineKind::kRunner, "The job uses JavaScript actions: adding '" + opts_.node_package + "' to its root");
        }
        try {
            prepareJail();
        } catch (...) {
            reportRootPhases(outcome);
            reportProxyPhase(outcome);
            throw;
        }
        reportRootPhases(outcome);
        reportProxyPhase(outcome);
        StepScope top;
        top_ = &top;
        execStart = Clock::now();
        // The job's timeout-minutes bounds each step: a step's limit is at most the time left.
        runPreSteps(top);  // JavaScript actions' pre steps, in step order
        runSteps(instance_.job->steps, top);
        runPostSteps(top);  // JavaScript actions' post steps, newest first, whatever happened
        if (cancelled_ && !timed_out_) job_status_ = "cancelled";
        if (top.failed) job_status_ = "failure";
        finishOutputs(outcome);
        top_ = nullptr;
    } catch (const std::exception& e) {
        outcome.error = masker_.mask(e.what());
        log(LineKind::kError, e.what());
        job_status_ = "failure";
        top_ = nullptr;
    }
    if (timed_out_) {
        outcome.error = runnerCap ? "the job exceeded runner.job_timeout and was stopped"
                                  : "the job exceeded its timeout-minutes and was stopped";
        log(LineKind::kError, outcome.error);
        job_status_ = "failure";
    }
    if (sandbox_) {
        PhaseRecord ws{.phase = Phase::kWorkspacePrepare, .duration = directories + checkout_stats_.time};
        ws.facts["checkouts"] = checkout_stats_.count;
        ws.facts["cached_checkouts"] = checkout_stats_.cached;
        // A hit when every checkout came from the cache (the local working tree is copied, never cached).
        if (checkout_stats_.count > 0) ws.cache_hit = checkout_stats_.cached == checkout_stats_.count;
        phaseDone(outcome, std::move(ws));
    }
    if (execStart) phaseDone(outcome, {.phase = Phase::kExecution, .duration = since(*execStart) - checkout_stats_.time});
    const auto cleanupStart = Clock::now();
    // The job's resources go in the reverse order of their making: the jail (its processes and
    // mounts), the network (its proxy, then its namespace), the checkout snapshots, the root
    // snapshot, the job's volume, then the job directory.
    try {
        if (sandbox_) {
            drainNetworkAudit(sandbox_->close());
            sandbox_.reset();
        }
    } catch (const std::exception& e) {
        log(LineKind::kError, std::string("cleaning up the job: ") + e.what());
        if (outcome.error.empty()) outcome.error = masker_.mask(e.what());
        job_status_ = "failure";
    }
    phaseDone(outcome, {.phase = Phase::kCleanup, .duration = since(cleanupStart)});
    outcome.result = job_status_ == "success" ? Result::kSuccess
                     : cancelled_ && job_status_ == "cancelled" ? Result::kCancelled
                                                               : Result::kFailure;
    outcome.steps = records_;
    outcome.network_audit = std::move(network_audit_);
    outcome.summary = masker_.mask(summary_);
    for (auto& [k, v] : outcome.outputs) v = masker_.mask(v);
    outcome.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    return outcome;
}

void JobRun::phaseDone(JobOutcome& outcome, PhaseRecord record) {
    observer_.phaseFinished(record);
    outcome.phases.push_back(std::move(record));
}

void JobRun::reportRootPhases(JobOutcome& outcome) {
    const JobRoot* root = sandbox_ ? sandbox_->root() : nullptr;
    if (!root) return;
    const auto t = root->timings();
    PhaseRecord closure{.phase = Phase::kClosureResolution, .duration = t.closure_resolution};
    closure.facts["closure_paths"] = static_cast<int64_t>(t.closure_paths);
    if (t.closure_bytes > 0) closure.facts["closure_bytes"] = static_cast<int64_t>(t.closure_bytes);
    phaseDone(outcome, std::move(closure));
    phaseDone(outcome, {.phase = Phase::kRootPrepare, .duration = t.root_prepare, .cache_hit = root->cacheHit()});
}

void JobRun::reportProxyPhase(JobOutcome& outcome) {
    const auto setup = sandbox_ ? sandbox_->proxySetupTime() : std::nullopt;
    if (!setup) return;
    PhaseRecord p{.phase = Phase::kProxySetup, .duration = *setup};
    p.facts["credentials"] = static_cast<int64_t>(opts_.network.credentials.size());
    phaseDone(outcome, std::move(p));
}

JobOutcome runJob(const JobInstance& instance, const RunOptions& opts, JobObserver& observer,
                  SecretMasker& masker, std::stop_token cancel) {
    JobRun run(instance, opts, observer, masker, std::move(cancel));
    return run.run();
}

}  // namespace nixjail::runner::engine
