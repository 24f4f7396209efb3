// The phases of a job: directories, environment and credentials, root, network, jail, steps,
// outputs, and the release of what it held.
#include "runner/engine/job_runner_impl.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <future>
#include <utility>

#include "runner/base/beneath.h"
#include "runner/base/error.h"
#include "workspace-cache/closure.h"
#include "runner/base/file_io.h"
#include "runner/base/scope_exit.h"
#include "runner/engine/event_context.h"
#include "runner/engine/first_step_jail_check.h"
#include "runner/engine/jail_self_check.h"
#include "runner/engine/missing_program.h"
#include "runner/actions/step_command_files.h"
#include "runner/engine/working_tree.h"
#include "runner/network/anonymous_netns.h"
#include "runner/network/forge_credentials.h"
#include "runner/network/forge_pin.h"
#include "runner/network/spare_netns.h"

namespace nixjail::runner::engine {

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

std::chrono::milliseconds since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

}  // namespace

JobRunner::JobRunner(const JobInstance& instance, const RunOptions& opts, JobObserver& observer,
               SecretMasker& masker, std::stop_token cancel)
    : instance_(instance),
      opts_(opts),
      plan_(job::planJob(opts_.executor->name(), opts_.executor->traits(),
                         {.profile = opts_.profile, .disk_max_bytes = opts_.limits.disk_max_bytes})),
      forward_cancel_(cancel, std::function<void()>([this] { stop_.request_stop(); })),
      observer_(&observer),
      job_{.instance = instance_, .opts = opts_, .plan = plan_, .observer = observer_, .masker = masker, .stop = stop_},
      parts_(job_) {
    job_.parts = &parts_;
}

std::vector<std::string> JobRunner::jobPackages() const {
    std::vector<std::string> out = job_.opts.packages;
    for (const auto& [k, v] : job_.state.env) {
        if (k != "NIXJAIL_PACKAGES") continue;
        for (const auto& p : cache::parsePackageList(v)) {
            if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
        }
    }
    return out;
}

void JobRunner::startNetwork() {
    if (!plan_.proxied()) return;
    network_forge_ = forgeHosts();
    network_ = std::async(std::launch::async, [this, settings = networkSettings(), forge = network_forge_] {
        job_.sandbox->makeNetwork(settings, job_.instance.job->id, forge,
                                  netns_ahead_.valid() ? netns_ahead_.get() : base::UniqueFd());
    });
}

void JobRunner::prepareJail() {
    // The network (startNetwork) is made on a thread of its own while the job's event file and
    // workspace and then its root are prepared: they share nothing until the jail binds the
    // proxy's CA over the root's trust store, and each is a millisecond or more of a cached job's
    // start (a root to build, seconds).
    if (plan_.root == job::JobPlan::Root::kNixRoot) {
        job_.sandbox->makeRoot(job_.opts.root_provider, rootRequest());
        const JobRoot& root = *job_.sandbox->root();
        job_.log(LineKind::kRunner, std::string("Job root: ") + (root.cacheHit() ? "cached" : "built") + " from " +
                                   root.source());
    }
    if (plan_.proxied()) {
        network_.get();
        logNetwork(network_forge_);
    } else {
        job_.log(LineKind::kRunner,
            "Network: the '" + plan_.backend +
                "' executor runs steps in the host's network, without the job's proxy "
                "or its policy (debugging only)");
    }
    if (!job_.instance.job->services.empty()) prepareServices();
    job_.sandbox->makeJail(*job_.opts.executor, job_.instance.job->id, job_.opts.limits, missingProgramNote());
}

network::NetworkSettings JobRunner::networkSettings() const {
    network::NetworkSettings settings = job_.opts.network;
    settings.credentials = job_.credentials->all();
    const auto& server_url = job_.state.github["server_url"];
    if (auto pin = network::forgeHostPin(server_url.is_string() ? server_url.get<std::string>() : ""))
        settings.host_overrides.emplace(pin->first, pin->second);  // the admin's own pin wins
    return settings;
}

void JobRunner::logNetwork(const std::vector<std::string>& forge) {
    std::string allowed;
    for (const auto& h : forge) allowed += (allowed.empty() ? "" : ", ") + h;
    job_.log(LineKind::kRunner,
        std::string(plan_.network == job::JobPlan::Network::kNamespaceProxy
                        ? "Network: the job's own namespace; its only way out is its proxy at 127.0.0.1:"
                        : "Network: the sandbox lets steps reach only their proxy at 127.0.0.1:") +
            std::to_string(job_.sandbox->network()->proxyPort()) +
            " (allowed: " + (allowed.empty() ? "no forge" : allowed) +
            (job_.opts.network.admin_policy.empty() ? "; nothing else"
                                                : " and what the policy allows") +
            (job_.credentials->all().empty()
                 ? std::string()
                 : "; credentials: " + std::to_string(job_.credentials->all().size())) +
            ")");
    for (const auto& note : job_.opts.network.notes) job_.log(LineKind::kRunner, "Network: " + note);
}

void JobRunner::checkJailPromises() {
    if (!plan_.check_jail) return;
    const JailCheckRequest request{
        .program = job_.opts.jail_check_program.empty() ? defaultJailCheckProgram() : job_.opts.jail_check_program,
        .temp_fd = job_.sandbox->tempFd(),
        .temp_jail = job_.dirs().temp.jail,
        .limits = job_.opts.limits,
        .backend = plan_.backend};
    if (plan_.check_jail_in_first_step) {
        // The program is placed now: one that is missing fails the job before any step.
        job_.sandbox->decorateJail([&](std::unique_ptr<executor::Jail> jail) {
            return std::make_unique<FirstStepJailCheck>(std::move(jail), request,
                                                        [this](const JailCheckReport& r) { logJailCheck(r); });
        });
        return;
    }
    const JailCheckReport report = checkJail(job_.sandbox->jail(), request, stop_.get_token());
    logJailCheck(report);
    if (!report.passed()) throw base::Error(jailCheckRefusal(report, plan_.backend));
}

void JobRunner::logJailCheck(const JailCheckReport& report) {
    jail_checks_ = report.checks;
    std::string seen;
    for (const auto& c : report.checks) {
        if (!c.passed) job_.log(LineKind::kError, "Jail self-check: " + c.name + ": " + c.detail);
        seen += (seen.empty() ? "" : ", ") + c.name;
        if (c.name == "cgroup") seen += " (" + c.detail + ")";
    }
    if (report.passed()) {
        job_.log(LineKind::kRunner, "Jail self-check passed in " + std::to_string(report.duration.count()) +
                                        " ms: " + seen);
    }
}

std::vector<std::string> JobRunner::forgeHosts() const {
    std::vector<std::string> forge;
    for (const char* key : {"server_url", "api_url"}) {
        const auto& url = job_.state.github[key];
        std::string host = url.is_string() ? network::urlHost(url.get<std::string>()) : "";
        if (!host.empty() && std::find(forge.begin(), forge.end(), host) == forge.end())
            forge.push_back(host);
    }
    return forge;
}

void JobRunner::prepareCredentials() {
    job_.credentials.emplace(plan_, job_.opts.network.credentials, job_.state.github, forgeHosts(),
                         job_.opts.network.service_hosts, job_.masker, job_.opts.secrets,
                         job_.opts.network.secret_hosts, job_.opts.network.audit_only);
    std::string bound;
    for (const auto& p : job_.credentials->placeholders()) {
        std::string hosts;
        for (const auto& h : p.hosts) hosts += (hosts.empty() ? "" : ", ") + h;
        if (p.in_bodies) hosts += ", request bodies too";
        const auto& bindings = job_.credentials->bindings();
        const auto binding = bindings.find(p.name);
        if (binding != bindings.end() && !binding->second.origin.empty())
            hosts += "; bound by " + binding->second.origin;
        bound += (bound.empty() ? "" : "; ") + p.name + " (" + hosts + ")";
    }
    if (!bound.empty()) {
        job_.log(LineKind::kRunner,
                 "Secrets as placeholders (the job sees a random stand-in; its proxy puts the real "
                 "value back only in requests to these hosts): " + bound);
    }
    job_.credentials->hideIn(job_.state.github);
}

void JobRunner::prepareEnvironment() {
    const auto& wf = *job_.instance.workflow;
    const auto& job = *job_.instance.job;
    job_.state.github = job_.opts.github.is_object() ? job_.opts.github : Json::object();
    job_.state.github["event_name"] = job_.opts.event_name;
    job_.state.github["event"] = job_.opts.event;
    job_.state.github["event_path"] = (job_.dirs().temp.jail / "event.json").string();
    job_.state.github["workspace"] = job_.dirs().workspace.jail.string();
    job_.state.github["job"] = job.id;
    job_.state.github["workflow"] = wf.name.empty() ? wf.file.filename().string() : wf.name;
    job_.state.github["run_id"] = job_.opts.run_id;
    job_.state.github["run_number"] = job_.opts.run_number;
    job_.state.github["run_attempt"] = "1";
    job_.state.github["action"] = "";
    job_.state.github["retention_days"] = "90";
    if (job_.opts.secrets.count("GITHUB_TOKEN")) job_.state.github["token"] = job_.opts.secrets.at("GITHUB_TOKEN");
    for (const char* key : {"repository", "repository_owner", "sha", "ref", "ref_name", "ref_type",
                            "actor", "triggering_actor", "server_url", "api_url", "graphql_url",
                            "head_ref", "base_ref"}) {
        if (!job_.state.github.contains(key)) job_.state.github[key] = "";
    }
    fillPullRequestRefs(job_.state.github, job_.opts.event_name, job_.opts.event);
    prepareCredentials();
    startNetwork();
    job_.sandbox->writeTempFile("event.json", job_.opts.event.dump(2), "the event file");

    // Workflow env, then --env, then the container's, then job env; each may use the contexts
    // available at that level.
    workflow::EnvList containerEnv;
    prepareContainer();
    if (!job_.state.container.is_null() && job.container.is_object() && job.container.contains("env") &&
        job.container["env"].is_object()) {
        for (const auto& [k, v] : job.container["env"].items()) {
            containerEnv.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
        }
    }
    for (const workflow::EnvList* list : {&wf.env, &job_.opts.env, const_cast<const workflow::EnvList*>(&containerEnv), &job.env}) {
        for (const auto& [k, v] : *list) {
            std::string value = parts_.contexts.eval(v, nullptr, "env '" + k + "'");
            std::erase_if(job_.state.env, [&](const auto& kv) { return kv.first == k; });
            job_.state.env.emplace_back(k, value);
        }
    }
    // The caller's env may carry a credential's real value (the daemon's ACTIONS_RUNTIME_TOKEN):
    // a jailed job gets its dummy there too.
    job_.credentials->hideIn(job_.state.env);
}

void JobRunner::finishOutputs(JobOutcome& outcome) {
    StepScope top;
    for (const auto& r : job_.status.records) {
        if (!r.id.empty()) {
            top.steps[r.id] = Json{{"outputs", toJson(r.outputs)},
                                   {"outcome", resultName(r.outcome)},
                                   {"conclusion", resultName(r.conclusion)}};
        }
    }
    for (const auto& [name, text] : job_.instance.job->outputs) {
        auto r = expr::interpolate(text, parts_.contexts.build(&top));
        if (!r) {
            job_.log(LineKind::kError, "in job output '" + name + "': " + r.error().format());
            continue;
        }
        // As GitHub's runner: an empty output is not sent, and one the masker would change (a
        // secret or an ::add-mask:: value in it) is dropped with a warning rather than sent masked.
        if (r->empty()) continue;
        if (job_.masker.mask(*r) != *r) {
            job_.log(LineKind::kWarning, "Skip output '" + name + "' since it may contain secret.");
            continue;
        }
        outcome.outputs[name] = *r;
    }
}

JobOutcome JobRunner::run() {
    JobOutcome outcome;
    const auto start = Clock::now();
    auto jobTimeout = timeoutMinutes(job_.instance.job->timeout_minutes).value_or(std::chrono::minutes(360));
    if (job_.instance.job->timeout_minutes.is_string()) {
        auto r = expr::evaluateTemplate(job_.instance.job->timeout_minutes.get<std::string>(), parts_.contexts.build(nullptr));
        if (r && timeoutMinutes(*r)) jobTimeout = *timeoutMinutes(*r);
    }
    const bool runnerCap = job_.opts.runner_job_timeout && *job_.opts.runner_job_timeout < jobTimeout;
    job_timeout_ = runnerCap ? *job_.opts.runner_job_timeout : std::chrono::milliseconds(jobTimeout);
    job_.status.deadline = start + job_timeout_;
    std::chrono::milliseconds directories{0};
    std::optional<Clock::time_point> execStart;
    // The job's network namespace (a millisecond or more of the kernel's) is made while the
    // job's directories and environment are, unless the runner made one ahead; prepareJail's
    // network thread takes it.
    if (plan_.network == job::JobPlan::Network::kNamespaceProxy) {
        const auto& spare = job_.opts.network.spare_netns;
        netns_ahead_ = spare ? spare->take() : std::async(std::launch::async, network::createAnonymousNetns);
    }
    try {
        job_.sandbox = std::make_unique<JobSandbox>(plan_, job_.opts.work_dir,
                                                [this](LineKind kind, const std::string& text) { job_.log(kind, text); });
        prepareEnvironment();
        if (job_.opts.workspace_from_repo && !job_.opts.repo_dir.empty()) {
            job_.log(LineKind::kRunner, "Workspace: a copy of the working tree '" + job_.opts.repo_dir.string() +
                                       "' (tracked and untracked files .gitignore does not exclude)");
            copyWorkingTree(job_.opts.repo_dir, job_.dirs().workspace.host);
        }
        directories = since(start);
        // Set up job: an isolating executor's root must hold node if a JavaScript action needs it.
        if (plan_.node_in_root && parts_.node.jobUsesNodeActions()) {
            needs_node_ = true;
            job_.log(LineKind::kRunner, "The job uses JavaScript actions: adding '" + job_.opts.node_package + "' to its root");
        }
        try {
            prepareJail();
        } catch (...) {
            if (network_.valid()) network_.wait();  // its phase is read below
            reportRootPhases(outcome);
            reportProxyPhase(outcome);
            reportServicesPhase(outcome);
            throw;
        }
        reportRootPhases(outcome);
        reportProxyPhase(outcome);
        reportServicesPhase(outcome);
        checkJailPromises();
        StepScope& top = top_;
        job_.status.top = &top;
        execStart = Clock::now();
        // The job's timeout-minutes bounds each step: a step's limit is at most the time left.
        parts_.node.runPreSteps(top);  // JavaScript actions' pre steps, in step order
        parts_.runner.runSteps(job_.instance.job->steps, top);
        parts_.node.runPostSteps(top);  // JavaScript actions' post steps, newest first, whatever happened
        if (job_.status.cancelled && !job_.status.timed_out) job_.status.job = "cancelled";
        if (top.failed) job_.status.job = "failure";
        finishOutputs(outcome);
        job_.status.top = nullptr;
    } catch (const std::exception& e) {
        // A network still in the making uses the sandbox, which the clean-up below releases.
        if (network_.valid()) network_.wait();
        outcome.error = job_.masker.mask(e.what());
        job_.log(LineKind::kError, e.what());
        job_.status.job = "failure";
        job_.status.top = nullptr;
    }
    if (job_.status.timed_out) {
        outcome.error = runnerCap ? "the job exceeded runner.job_timeout and was stopped"
                                  : "the job exceeded its timeout-minutes and was stopped";
        job_.log(LineKind::kError, outcome.error);
        job_.status.job = "failure";
    }
    if (job_.sandbox) {
        PhaseRecord ws{.phase = Phase::kWorkspacePrepare, .duration = directories + parts_.action.checkoutStats().time};
        ws.facts["checkouts"] = parts_.action.checkoutStats().count;
        ws.facts["cached_checkouts"] = parts_.action.checkoutStats().cached;
        // A hit when every checkout came from the cache (the local working tree is copied, never cached).
        if (parts_.action.checkoutStats().count > 0) ws.cache_hit = parts_.action.checkoutStats().cached == parts_.action.checkoutStats().count;
        phaseDone(outcome, std::move(ws));
    }
    if (execStart) phaseDone(outcome, {.phase = Phase::kExecution, .duration = since(*execStart) - parts_.action.checkoutStats().time});
    const auto cleanupStart = Clock::now();
    // The job's resources go in the reverse order of their making: the jail (its processes and
    // mounts), the network (its proxy, then its namespace), the checkout snapshots, the root
    // snapshot, the job's volume, then the job directory.
    if (keepsJail()) {
        // Released by whoever adopts the kept job (RunOptions::keeper), or by the destructor.
        kept_ = true;
        job_.recordAudit(job_.sandbox->takeAuditRecords());
        job_.log(LineKind::kRunner, "Keeping the job's directory, workspace, root, network and proxy for a shell (" +
                                        std::string(job_.opts.keep == KeepJob::kAlways ? "--keep" : "--keep-failed") + ")");
    } else {
        try {
            if (job_.sandbox) {
                job_.recordAudit(job_.sandbox->close());
                job_.sandbox.reset();
            }
        } catch (const std::exception& e) {
            job_.log(LineKind::kError, std::string("cleaning up the job: ") + e.what());
            if (outcome.error.empty()) outcome.error = job_.masker.mask(e.what());
            job_.status.job = "failure";
        }
        phaseDone(outcome, {.phase = Phase::kCleanup, .duration = since(cleanupStart)});
    }
    outcome.result = job_.status.job == "success" ? Result::kSuccess
                     : job_.status.cancelled && job_.status.job == "cancelled" ? Result::kCancelled
                                                               : Result::kFailure;
    outcome.steps = job_.status.records;
    outcome.jail_checks = jail_checks_;
    outcome.network_audit = std::move(job_.network_audit);
    outcome.summary = job_.masker.mask(job_.state.summary);
    for (auto& [k, v] : outcome.outputs) v = job_.masker.mask(v);
    outcome.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    if (kept_) observer_.point(nullptr);  // the caller's observer is done with this job
    return outcome;
}

void JobRunner::phaseDone(JobOutcome& outcome, PhaseRecord record) {
    job_.observer.phaseFinished(record);
    outcome.phases.push_back(std::move(record));
}

void JobRunner::reportRootPhases(JobOutcome& outcome) {
    const JobRoot* root = job_.sandbox ? job_.sandbox->root() : nullptr;
    if (!root) return;
    const auto t = root->timings();
    PhaseRecord closure{.phase = Phase::kClosureResolution,
                        .duration = t.closure_resolution,
                        .cache_hit = t.closure_remembered};
    closure.facts["closure_paths"] = static_cast<int64_t>(t.closure_paths);
    if (t.closure_bytes > 0) closure.facts["closure_bytes"] = static_cast<int64_t>(t.closure_bytes);
    phaseDone(outcome, std::move(closure));
    phaseDone(outcome, {.phase = Phase::kRootPrepare, .duration = t.root_prepare, .cache_hit = root->cacheHit()});
}

void JobRunner::reportProxyPhase(JobOutcome& outcome) {
    const auto setup = job_.sandbox ? job_.sandbox->proxySetupTime() : std::nullopt;
    if (!setup) return;
    PhaseRecord p{.phase = Phase::kProxySetup, .duration = *setup};
    p.facts["credentials"] = static_cast<int64_t>(job_.opts.network.credentials.size());
    phaseDone(outcome, std::move(p));
}

JobOutcome runJob(const JobInstance& instance, const RunOptions& opts, JobObserver& observer,
                  SecretMasker& masker, std::stop_token cancel) {
    auto runner = std::make_unique<JobRunner>(instance, opts, observer, masker, std::move(cancel));
    JobOutcome outcome = runner->run();
    if (runner->kept()) {
        try {
            opts.keeper->adopt(std::move(runner));
        } catch (const std::exception& e) {
            observer.line({LineKind::kWarning, masker.mask(std::string("The job's jail is not kept: ") + e.what())});
        }
    }
    return outcome;
}

}  // namespace nixjail::runner::engine
