// JavaScript actions: `node <main>` as a step with INPUT_* variables, the pre scripts of remote
// actions at the job's start (a local action's just before main), and the post script queued for
// the job's end with the state they saved.
#include <algorithm>

#include "runner/base/ascii.h"
#include "runner/base/error.h"
#include "runner/base/scope_exit.h"
#include "runner/actions/action_fetch.h"
#include "runner/engine/step_parts.h"

namespace nixjail::runner::engine {

namespace fs = std::filesystem;

namespace {

// argv for one node script: node from the step's PATH (under the job's root when jailed). The
// strict hardening profile forbids writable+executable memory, which V8's JIT needs: there node
// runs with --jitless (slower, no WebAssembly); the default profile lets it JIT.
std::vector<std::string> nodeArgv(const std::vector<std::string>& processEnv, const fs::path& root,
                                  bool jitless, const fs::path& script, const std::string& stepName,
                                  const std::string& what) {
    const std::string path = envValue(processEnv, "PATH");
    const fs::path node = findOnPath(path, root, "node");
    if (node.empty()) {
        throw base::Error("step '" + stepName + "' runs JavaScript action " + what +
                          " but there is no 'node' on its PATH (" + path + "); " +
                          (root != "/"
                               ? "the runner's node package (node_package) did not provide one"
                               : "install Node.js on the host or use an isolating executor"));
    }
    std::vector<std::string> argv{node.string()};
    if (jitless) argv.push_back("--jitless");
    argv.push_back(script.string());
    return argv;
}

}  // namespace

bool NodeActionStep::run(const workflow::Step& step, StepScope& scope, StepRecord& rec,
                           const std::vector<std::pair<std::string, std::string>>& stepEnv,
                           const ActionManifest& manifest, const ActionLocation& where) {
    if (!isNodeRuntime(manifest.using_)) {
        throw base::Error("step '" + rec.name + "' uses action '" + step.uses +
                          "' with runs.using '" + manifest.using_ +
                          "'; this runner runs node12, node16, node20 and node24 actions");
    }
    if (isRetiredNodeRuntime(manifest.using_)) {
        // GitHub no longer has these runtimes and forces such actions onto node20.
        job_.log(LineKind::kWarning, "The following actions use " + manifest.using_ +
                                    ", which is deprecated and will be forced to run on node20 "
                                    "(here: the newest node the step has, the one on its PATH): " +
                                    step.uses);
    }
    const fs::path main =
        actionScript(where, manifest.main, "runs.main of action '" + step.uses + "'");
    const fs::path pre =
        manifest.pre.empty()
            ? fs::path()
            : actionScript(where, manifest.pre, "runs.pre of action '" + step.uses + "'");
    const fs::path post =
        manifest.post.empty()
            ? fs::path()
            : actionScript(where, manifest.post, "runs.post of action '" + step.uses + "'");

    for (const auto& [k, v] : step.with) {
        if (!manifest.inputs.count(base::asciiLower(k))) {
            job_.log(LineKind::kWarning, "Unexpected input '" + k + "' for action '" + step.uses + "'");
        }
    }
    const auto env = nodeActionEnv(step, scope, stepEnv, manifest);

    if (job_.plan.jitless_node) {
        job_.log(LineKind::kRunner,
            "Node runs with --jitless, without WebAssembly: the strict hardening profile forbids "
            "writable+executable memory (the default profile lets V8 compile)");
    }
    StepScope actionScope;
    actionScope.action_path = where.jail;
    actionScope.action_repository = where.repository;
    // A pre that ran (or was skipped) at the job's start left its state here.
    const auto early = pre_states_.find(&step);
    KeyValues state = early == pre_states_.end() ? KeyValues{} : early->second;
    auto runEntry = [&](const fs::path& script, const std::string& phase) {
        return runNodeScript(step, actionScope, rec, env, job_.parts->runner.stepTimeout(step, scope), script, phase,
                             "'" + step.uses + "' (" + manifest.using_ + ")", state);
    };

    if (!pre.empty() && early == pre_states_.end()) {
        // Local actions only: GitHub's runner skips their pre, which it could not read before
        // the checkout; here it runs just before main.
        auto cond = expr::evaluateCondition(manifest.pre_if, job_.parts->contexts.build(&scope));
        if (!cond)
            throw base::Error("in pre-if of action '" + step.uses + "': " + cond.error().format());
        if (*cond) {
            job_.log(LineKind::kRunner, "Pre: " + manifest.pre);
            if (!runEntry(pre, "pre")) return false;
        } else {
            job_.log(LineKind::kRunner, "Pre skipped: pre-if '" + manifest.pre_if + "' is false");
        }
    }
    // The post step belongs to the job once the action has started, whatever main does.
    const auto postIndex = posts_.size();
    if (!post.empty()) {
        posts_.push_back(PostStep{.name = "Post " + rec.name,
                                  .id = step.id,
                                  .uses = step.uses,
                                  .post_if = manifest.post_if,
                                  .script = post,
                                  .where = where,
                                  .env = env,
                                  .state = {}});
    }
    const bool ok = runEntry(main, "main");
    if (!post.empty()) posts_[postIndex].state = state;
    return ok;
}

std::vector<std::pair<std::string, std::string>> NodeActionStep::nodeActionEnv(
    const workflow::Step& step, StepScope& scope,
    const std::vector<std::pair<std::string, std::string>>& stepEnv,
    const ActionManifest& manifest) {
    // Inputs: `with:` values, else the manifest's defaults (expressions evaluated), as INPUT_*.
    std::vector<std::pair<std::string, std::string>> env = stepEnv;
    auto setEnv = [&env](const std::string& k, const std::string& v) {
        std::erase_if(env, [&](const auto& kv) { return kv.first == k; });
        env.emplace_back(k, v);
    };
    for (const auto& [k, v] : step.with) {
        setEnv(inputVariable(k), job_.parts->contexts.eval(v, &scope, "input '" + k + "'"));
    }
    for (const auto& [name, input] : manifest.inputs) {
        const bool given = std::any_of(step.with.begin(), step.with.end(), [&](const auto& kv) {
            return base::asciiLower(kv.first) == name;
        });
        if (given) continue;
        if (input.default_value) {
            setEnv(inputVariable(name),
                   job_.parts->contexts.eval(*input.default_value, &scope, "default of input '" + name + "'"));
        } else if (input.required) {
            job_.log(LineKind::kWarning, "Input required and not supplied: " + name);
        }
    }
    return env;
}

bool NodeActionStep::runNodeScript(const workflow::Step& step, const StepScope& actionScope,
                           StepRecord& rec,
                           const std::vector<std::pair<std::string, std::string>>& env,
                           const std::optional<std::chrono::milliseconds>& timeout,
                           const fs::path& script, const std::string& phase,
                           const std::string& what, KeyValues& state) {
    auto stateEnv = env;
    for (const auto& [k, v] : state) stateEnv.emplace_back(stateVariable(k), v);
    KeyValues saved;
    const bool ok = job_.parts->process.run(
        step, actionScope, rec, stateEnv, job_.dirs().workspace.jail, timeout, &saved,
        [&](const std::vector<std::string>& processEnv, const std::string&, const StepProcess::WriteStepFile&) {
            auto argv = nodeArgv(processEnv, job_.sandbox->root() ? job_.sandbox->root()->root() : fs::path("/"), job_.plan.jitless_node,
                                 script, rec.name, what);
            job_.log(LineKind::kDebug, "node " + phase + ": " + argv.front());
            return argv;
        });
    for (auto& kv : saved) {
        std::erase_if(state, [&](const auto& s) { return s.first == kv.first; });
        state.push_back(std::move(kv));
    }
    return ok;
}

void NodeActionStep::runPreSteps(StepScope& top) {
    for (const auto& step : job_.instance.job->steps) {
        const std::string& uses = step.uses;
        // Remote actions only: a local one is not there before the checkout (GitHub skips its
        // pre; runNodeAction runs it before main). A failed fetch is the step's to report.
        if (uses.empty() || uses.rfind("./", 0) == 0 || uses == "." ||
            uses.rfind("docker://", 0) == 0 || uses.find("${{") != std::string::npos ||
            base::asciiLower(uses).rfind("actions/checkout@", 0) == 0) {
            continue;
        }
        ActionLocation where;
        ActionManifest manifest;
        try {
            where = job_.parts->action.remoteAction(uses);
            manifest = loadActionManifest(where.root, where.host.lexically_relative(where.root));
        } catch (const base::Error& e) {
            job_.log(LineKind::kDebug, "Set up job: no pre step for '" + uses + "': " + e.what());
            continue;
        }
        if (!isNodeRuntime(manifest.using_) || manifest.pre.empty()) continue;
        if (job_.stop.stop_requested()) return;

        StepRecord rec;
        rec.index = job_.status.next_index++;
        rec.name = job_.masker.mask("Pre " + job_.parts->runner.stepDisplayName(step, top));
        rec.pre = true;
        KeyValues& state = pre_states_[&step];  // also when skipped: main does not run it then
        const auto start = std::chrono::steady_clock::now();
        bool ok = false;
        bool started = false;
        try {
            auto cond = expr::evaluateCondition(manifest.pre_if, job_.parts->contexts.build(&top));
            if (!cond)
                throw base::Error("in pre-if of action '" + uses + "': " + cond.error().format());
            if (!*cond) {
                rec.outcome = rec.conclusion = Result::kSkipped;
                job_.observer.stepFinished(rec);
                job_.status.records.push_back(std::move(rec));
                continue;
            }
            job_.observer.stepStarted(rec);
            started = true;
            const fs::path script =
                actionScript(where, manifest.pre, "runs.pre of action '" + uses + "'");
            // The step's env and inputs as they evaluate now, before any step ran.
            top.step_env.clear();
            base::ScopeExit clearStepEnv([&top] { top.step_env.clear(); });
            for (const auto& [k, v] : step.env) {
                auto r = expr::interpolate(v, job_.parts->contexts.build(&top));
                if (!r) throw base::Error("in env '" + k + "' of step '" + rec.name + "': " +
                                          r.error().format());
                std::erase_if(top.step_env, [&](const auto& kv) { return kv.first == k; });
                top.step_env.emplace_back(k, *r);
            }
            workflow::EnvList stepEnv = top.env;
            for (const auto& [k, v] : top.step_env) {
                std::erase_if(stepEnv, [&](const auto& kv) { return kv.first == k; });
                stepEnv.emplace_back(k, v);
            }
            const auto env = nodeActionEnv(step, top, stepEnv, manifest);
            StepScope actionScope;
            actionScope.action_path = where.jail;
            actionScope.action_repository = where.repository;
            ok = runNodeScript(step, actionScope, rec, env, job_.parts->runner.stepTimeout(step, top), script, "pre",
                               "'" + uses + "' (" + manifest.using_ + ")", state);
        } catch (const base::Error& e) {
            if (!started) job_.observer.stepStarted(rec);
            rec.error = job_.masker.mask(e.what());
            job_.log(LineKind::kError, e.what());
            ok = false;
        }
        finishEdgeStep(std::move(rec), ok, start, top);
    }
}

void NodeActionStep::runPostSteps(StepScope& top) {
    while (!posts_.empty()) {
        PostStep post = std::move(posts_.back());
        posts_.pop_back();
        StepRecord rec;
        rec.index = job_.status.next_index++;
        rec.name = job_.masker.mask(post.name);
        const auto start = std::chrono::steady_clock::now();
        bool ok = false;
        bool started = false;
        try {
            auto cond = expr::evaluateCondition(post.post_if, job_.parts->contexts.build(&top));
            if (!cond)
                throw base::Error("in post-if of action '" + post.uses +
                                  "': " + cond.error().format());
            // A cancelled or timed-out job's steps are stopped at once: its post steps could not
            // run.
            const bool stopped = job_.stop.stop_requested();
            if (!*cond || stopped) {
                if (stopped && *cond)
                    job_.log(LineKind::kWarning, rec.name + " skipped: the job was stopped");
                rec.outcome = rec.conclusion = Result::kSkipped;
                job_.observer.stepFinished(rec);
                job_.status.records.push_back(std::move(rec));
                continue;
            }
            job_.observer.stepStarted(rec);
            started = true;
            auto env = post.env;
            for (const auto& [k, v] : post.state) env.emplace_back(stateVariable(k), v);
            StepScope actionScope;
            actionScope.action_path = post.where.jail;
            actionScope.action_repository = post.where.repository;
            workflow::Step step;
            step.id = post.id;
            step.uses = post.uses;
            KeyValues ignored;
            ok = job_.parts->process.run(
                step, actionScope, rec, env, job_.dirs().workspace.jail, job_.parts->runner.stepTimeout(step, top), &ignored,
                [&](const std::vector<std::string>& processEnv, const std::string&, const StepProcess::WriteStepFile&) {
                    return nodeArgv(processEnv, job_.sandbox->root() ? job_.sandbox->root()->root() : fs::path("/"), job_.plan.jitless_node,
                                    post.script, rec.name, "'" + post.uses + "'");
                });
        } catch (const base::Error& e) {
            if (!started) job_.observer.stepStarted(rec);
            rec.error = job_.masker.mask(e.what());
            job_.log(LineKind::kError, e.what());
            ok = false;
        }
        finishEdgeStep(std::move(rec), ok, start, top);
    }
}

bool NodeActionStep::jobUsesNodeActions() {
    // Depth-limited: composite actions may use further actions.
    std::function<bool(const std::vector<workflow::Step>&, int)> scan = [&](const auto& steps,
                                                                            int depth) {
        for (const auto& step : steps) {
            const std::string& uses = step.uses;
            if (uses.empty() || uses.rfind("docker://", 0) == 0 ||
                uses.find("${{") != std::string::npos ||
                base::asciiLower(uses).rfind("actions/checkout@", 0) == 0) {
                continue;
            }
            try {
                fs::path root, rel;
                if (uses.rfind("./", 0) == 0) {
                    // Local actions arrive with the checkout; in exec that is the local working
                    // tree.
                    if (job_.opts.repo_dir.empty()) continue;
                    root = job_.opts.repo_dir;
                    rel = fs::path(uses).lexically_normal();
                    if (!fs::exists(root / rel)) continue;
                } else {
                    const auto where = job_.parts->action.remoteAction(uses);
                    root = where.root;
                    rel = where.host.lexically_relative(where.root);
                }
                const auto m = loadActionManifest(root, rel);
                if (isNodeRuntime(m.using_)) return true;
                if (m.using_ == "composite" && depth < 8 && scan(m.steps, depth + 1)) return true;
            } catch (const std::exception& e) {
                // The step itself reports this when it runs.
                job_.log(LineKind::kDebug,
                    "Set up job: could not resolve action '" + uses + "': " + e.what());
            }
        }
        return false;
    };
    return scan(job_.instance.job->steps, 0);
}

void NodeActionStep::finishEdgeStep(StepRecord rec, bool ok, std::chrono::steady_clock::time_point start,
                            StepScope& top) {
    job_.recordAudit(job_.sandbox->takeAuditRecords());
    rec.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    rec.outcome = rec.conclusion =
        ok ? Result::kSuccess : (job_.status.cancelled ? Result::kCancelled : Result::kFailure);
    if (rec.conclusion == Result::kFailure) top.failed = true;
    job_.observer.stepFinished(rec);
    job_.status.records.push_back(std::move(rec));
}

}  // namespace nixjail::runner::engine
