// The expression contexts a step's expressions are evaluated in.
#include "runner/actions/step_command_files.h"
#include "runner/base/error.h"
#include "runner/engine/step_parts.h"
#include "runner/network/job_network.h"

namespace nixjail::runner::engine {

void JobContext::recordAudit(std::vector<proxy::AuditRecord> records) {
    for (auto& r : records) {
        const bool denied = r.decision == proxy::PolicyDecision::kDeny && r.enforced;
        log(denied ? LineKind::kError : LineKind::kRunner, "network: " + network::describeAudit(r));
        network_audit.push_back(std::move(r));
    }
}

Json toJson(const std::map<std::string, std::string>& m) {
    Json out = Json::object();
    for (const auto& [k, v] : m) out[k] = v;
    return out;
}

Json StepContexts::env(const workflow::EnvList& extra) const {
    Json out = Json::object();
    for (const auto& [k, v] : job_.state.env) out[k] = v;
    for (const auto& [k, v] : extra) out[k] = v;
    return out;
}

expr::EvalContext StepContexts::build(const StepScope* scope) const {
    expr::EvalContext ctx;
    expr::Value& c = ctx.contexts;
    c["github"] = job_.state.github;
    workflow::EnvList scopeEnv;
    if (scope) {
        scopeEnv = scope->env;
        scopeEnv.insert(scopeEnv.end(), scope->step_env.begin(), scope->step_env.end());
    }
    c["env"] = env(scopeEnv);
    c["vars"] = toJson(job_.opts.vars);
    // Credentials the proxy injects: the job only ever sees their dummies, under the admin's
    // credential names and wherever the forge sent a real value as a secret (GITHUB_TOKEN, ...).
    c["secrets"] = job_.credentials ? job_.credentials->secretsContext(job_.opts.secrets) : toJson(job_.opts.secrets);
    const bool topFailed = job_.status.top && job_.status.top->failed;
    c["job"] = Json{{"status", job_.status.cancelled ? "cancelled" : topFailed ? "failure" : job_.status.job}};
    if (!job_.state.services.is_null()) c["job"]["services"] = job_.state.services;
    if (!job_.state.container.is_null()) c["job"]["container"] = job_.state.container;
    c["runner"] = Json{{"os", "Linux"},        {"arch", "X64"},
                       {"name", "nixjail-runner"}, {"temp", job_.dirs().temp.jail.string()},
                       {"tool_cache", job_.dirs().tool_cache.jail.string()}, {"debug", ""},
                       {"environment", "self-hosted"}};
    c["strategy"] = job_.instance.strategy;
    c["matrix"] = job_.instance.matrix;
    c["needs"] = job_.instance.needs;
    c["inputs"] = scope && !scope->action_path.empty() ? scope->inputs : job_.instance.inputs;
    c["steps"] = scope ? scope->steps : Json::object();
    if (!job_.state.step_files_id.empty()) {
        // The running step's command files, as GitHub's github.env and github.path name them.
        c["github"]["env"] =
            StepCommandFiles::jailPath(job_.dirs().temp.jail, job_.state.step_files_id, CommandFileKind::kEnv).string();
        c["github"]["path"] =
            StepCommandFiles::jailPath(job_.dirs().temp.jail, job_.state.step_files_id, CommandFileKind::kPath).string();
    }
    if (scope && !scope->action_path.empty()) {
        c["github"]["action_path"] = scope->action_path.string();
        c["github"]["action_repository"] = scope->action_repository;
    }
    const bool failed = scopeFailed(scope);
    ctx.success = [this, failed] { return successGiven(failed); };
    ctx.failure = [this, failed] { return !job_.status.cancelled && (job_.status.job == "failure" || failed); };
    ctx.cancelled = [this] { return job_.status.cancelled; };
    ctx.workspace = job_.dirs().workspace.host;
    return ctx;
}

bool StepContexts::scopeFailed(const StepScope* scope) const {
    return (scope && scope->failed) || (job_.status.top && job_.status.top->failed);
}

bool StepContexts::successGiven(bool scope_failed) const {
    return !job_.status.cancelled && job_.status.job == "success" && !scope_failed;
}

bool StepContexts::succeeded(const StepScope* scope) const { return successGiven(scopeFailed(scope)); }

std::string StepContexts::eval(const std::string& text, const StepScope* scope,
                               const std::string& what) const {
    if (!expr::containsExpression(text)) return text;
    auto r = expr::interpolate(text, build(scope));
    if (!r) throw base::Error("in " + what + ": " + r.error().format());
    return *r;
}

}  // namespace nixjail::runner::engine
