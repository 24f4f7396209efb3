// The step loop of a job: conditions, status, continue-on-error, timeouts, step records.
#include <utility>

#include "runner/base/error.h"
#include "runner/base/scope_exit.h"
#include "runner/engine/first_step_jail_check.h"
#include "runner/engine/step_parts.h"

namespace nixjail::runner::engine {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

std::optional<std::chrono::milliseconds> timeoutMinutes(const Json& v) {
    if (v.is_number() && v.get<double>() > 0) {
        return std::chrono::milliseconds(static_cast<long long>(v.get<double>() * 60000));
    }
    return std::nullopt;
}

std::optional<std::chrono::milliseconds> StepRunner::stepTimeout(const workflow::Step& step, const StepScope& scope) {
    std::optional<std::chrono::milliseconds> t;
    Json v = step.timeout_minutes;
    if (v.is_string()) {
        auto r = expr::evaluateTemplate(v.get<std::string>(), job_.parts->contexts.build(&scope));
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
    t = timeoutMinutes(v);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(job_.status.deadline - Clock::now());
    if (left < std::chrono::milliseconds(1)) left = std::chrono::milliseconds(1);
    if (!t || *t > left) t = left;
    return t;
}

std::string StepRunner::stepDisplayName(const workflow::Step& step, const StepScope& scope) const {
    std::string name;
    if (!step.name.empty()) {
        auto r = expr::containsExpression(step.name)
                     ? expr::interpolate(step.name, job_.parts->contexts.build(&scope))
                     : step.name;
        name = r ? *r : step.name;
    } else if (!step.run.empty()) {
        std::string first = step.run.substr(0, step.run.find('\n'));
        name = "Run " + first;
    } else {
        name = "Run " + step.uses;
    }
    return scope.name_prefix.empty() ? name : scope.name_prefix + " / " + name;
}

bool StepRunner::shouldRun(const workflow::Step& step, StepScope& scope, StepRecord& rec) {
    // No `if`: success(), which needs none of the contexts.
    if (step.if_cond.empty()) return job_.parts->contexts.succeeded(&scope);
    auto r = expr::evaluateCondition(step.if_cond, job_.parts->contexts.build(&scope));
    if (!r) {
        rec.error = "in 'if' of step '" + rec.name + "': " + r.error().format();
        throw base::Error(rec.error);
    }
    return *r;
}

StepRecord StepRunner::runStep(const workflow::Step& step, StepScope& scope) {
    StepRecord rec;
    rec.index = job_.status.next_index++;
    rec.id = step.id;
    const auto start = Clock::now();
    // As GitHub's runner: the step's env is evaluated first (against the env context without it)
    // and merged into the env context its name, `if`, inputs and script see. An error in it fails
    // the step before its condition is looked at.
    std::optional<std::pair<std::string, std::string>> envError;  // the key, the problem
    // The step's command files are named now, so that github.env and github.path name them in
    // everything the step evaluates; runProcess makes them. A composite's nested steps name their
    // own, and the composite step gets its names back after them.
    const std::string outerFilesId = std::exchange(job_.state.step_files_id, uniqueName());
    base::ScopeExit restoreFilesId([this, outerFilesId] { job_.state.step_files_id = outerFilesId; });
    scope.step_env.clear();
    base::ScopeExit clearStepEnv([&scope] { scope.step_env.clear(); });
    {
        workflow::EnvList own;
        std::optional<expr::EvalContext> ctx;  // built for the first value with an expression
        for (const auto& [k, v] : step.env) {
            if (!ctx && expr::containsExpression(v)) ctx = job_.parts->contexts.build(&scope);
            auto r = ctx ? expr::interpolate(v, *ctx) : base::Result<std::string, expr::ExprError>(v);
            if (!r) {
                envError.emplace(k, r.error().format());
                break;
            }
            std::erase_if(own, [&](const auto& kv) { return kv.first == k; });
            own.emplace_back(k, *r);
        }
        if (!envError) scope.step_env = std::move(own);
    }
    rec.name = job_.masker.mask(stepDisplayName(step, scope));
    bool ok = false;
    bool started = false;
    try {
        if (envError) {
            throw base::Error("in env '" + envError->first + "' of step '" + rec.name +
                              "': " + envError->second);
        }
        if (!shouldRun(step, scope, rec)) {
            rec.outcome = rec.conclusion = Result::kSkipped;
            job_.observer.stepFinished(rec);
            return rec;
        }
        job_.observer.stepStarted(rec);
        started = true;
        workflow::EnvList stepEnv = scope.env;
        for (const auto& [k, v] : scope.step_env) {
            std::erase_if(stepEnv, [&](const auto& kv) { return kv.first == k; });
            stepEnv.emplace_back(k, v);
        }
        if (!step.run.empty()) {
            ok = job_.parts->script.run(step, scope, rec, stepEnv, stepTimeout(step, scope));
        } else {
            ok = job_.parts->action.run(step, scope, rec, stepEnv);
        }
    } catch (const JailRefused& e) {
        // The jail failed its self-check in this step's prelude: nothing of the step ran, and the
        // job ends here. The step is recorded as failed with the reason; the job's error says it.
        if (!started) job_.observer.stepStarted(rec);
        rec.error = job_.masker.mask(e.what());
        rec.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        rec.outcome = rec.conclusion = Result::kFailure;
        job_.observer.stepFinished(rec);
        if (&scope == job_.status.top) job_.status.records.push_back(rec);
        throw;
    } catch (const base::Error& e) {
        if (!started) job_.observer.stepStarted(rec);
        started = true;
        rec.error = job_.masker.mask(e.what());
        job_.log(LineKind::kError, e.what());
        ok = false;
    }
    job_.recordAudit(job_.sandbox->takeAuditRecords());
    rec.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    rec.outcome = ok ? Result::kSuccess : (job_.status.cancelled ? Result::kCancelled : Result::kFailure);
    rec.conclusion = rec.outcome;
    if (rec.outcome == Result::kFailure) {
        Json coe = step.continue_on_error;
        if (coe.is_string()) {
            auto r = expr::evaluateTemplate(coe.get<std::string>(), job_.parts->contexts.build(&scope));
            if (!r) {
                job_.log(LineKind::kError, "in continue-on-error: " + r.error().format());
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
    job_.observer.stepFinished(rec);
    return rec;
}

bool StepRunner::runSteps(const std::vector<workflow::Step>& steps, StepScope& scope) {
    for (const auto& step : steps) {
        if (job_.stop.stop_requested() && !job_.status.cancelled) {
            job_.status.cancelled = true;
            if (job_.status.timed_out || Clock::now() >= job_.status.deadline) {
                job_.status.timed_out = true;
            } else {
                job_.status.job = "cancelled";
            }
        }
        const bool failedBefore = scope.failed;
        StepRecord rec = runStep(step, scope);
        while (rec.conclusion == Result::kFailure && job_.opts.on_step_failure && !job_.status.cancelled) {
            const FailureChoice choice = askAfterFailure(rec);
            if (choice == FailureChoice::kRetry) {
                scope.failed = failedBefore;
                rec = runStep(step, scope);
                continue;
            }
            if (choice == FailureChoice::kIgnore) {
                rec.conclusion = Result::kSuccess;
                scope.failed = failedBefore;
                if (!step.id.empty()) scope.steps[step.id]["conclusion"] = resultName(rec.conclusion);
            } else if (choice == FailureChoice::kAbort) {
                job_.log(LineKind::kError, "The job was aborted at the failed step '" + rec.name + "'");
                job_.stop.request_stop();
            }
            break;
        }
        if (rec.conclusion == Result::kFailure && &scope == job_.status.top && !job_.status.failed_top_step) {
            job_.status.failed_top_step = static_cast<std::size_t>(&step - steps.data()) + 1;
        }
        job_.status.records.push_back(std::move(rec));
        if (Clock::now() >= job_.status.deadline && !job_.status.timed_out) {
            job_.status.timed_out = true;
            job_.stop.request_stop();
        }
    }
    return !scope.failed;
}

FailureChoice StepRunner::askAfterFailure(const StepRecord& rec) {
    FailedStep failed{.name = rec.name, .index = rec.index, .error = rec.error};
    failed.shell = [this](const std::vector<std::string>& argv, const executor::StepStdio& stdio) {
        return job_.parts->process.attach(argv, stdio, job_.stop.get_token());
    };
    const FailureChoice choice = job_.opts.on_step_failure(failed);
    static constexpr const char* kSaid[] = {"retry", "continue", "ignore the failure", "abort"};
    job_.log(LineKind::kRunner, "--break-on-failure: " + std::string(kSaid[static_cast<int>(choice)]) +
                                    " after step '" + rec.name + "'");
    return choice;
}

}  // namespace nixjail::runner::engine
