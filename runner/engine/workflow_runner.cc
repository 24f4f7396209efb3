// The scheduler: a loop that starts every job instance whose needs are done, on its own thread.
#include "runner/engine/workflow_runner.h"

#include "runner/engine/concurrency_groups.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "runner/base/error.h"
#include "runner/engine/event_context.h"
#include "runner/engine/reusable_workflow.h"
#include "runner/expr/expr.h"
#include "runner/workflow/job_graph.h"
#include "runner/workflow/matrix.h"

namespace nixjail::runner::engine {

namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

Json toJson(const std::map<std::string, std::string>& m) {
    Json out = Json::object();
    for (const auto& [k, v] : m) out[k] = v;
    return out;
}

// "${{ x }}" and nothing else around it (whitespace aside).
bool isWholeExpression(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    const auto last = text.find_last_not_of(" \t\r\n");
    if (first == std::string::npos) return false;
    const std::string_view t(text.data() + first, last - first + 1);
    return t.starts_with("${{") && t.ends_with("}}") && t.find("${{", 3) == std::string_view::npos;
}

// The key "${{ insert }}": its value, a mapping, is merged into the mapping that holds it.
bool isInsertKey(const std::string& key) {
    if (!isWholeExpression(key)) return false;
    const auto open = key.find("${{") + 3;
    std::string inner = key.substr(open, key.rfind("}}") - open);
    std::erase_if(inner, [](char c) { return c == ' ' || c == '\t'; });
    return inner == "insert";
}

// Evaluates the expressions inside a JSON value from the workflow's structure (a matrix, say), as
// GitHub's template evaluation does: every string with `${{`; mapping keys with one (and
// `${{ insert }}`, whose mapping is merged in); a sequence item that is one expression and
// yields a sequence is spliced into the sequence that holds it.
bool evalDeep(Json& v, const expr::EvalContext& ctx, std::string* error) {
    if (v.is_string()) {
        const auto s = v.get<std::string>();
        if (!expr::containsExpression(s)) return true;
        auto r = expr::evaluateTemplate(s, ctx);
        if (!r) {
            *error = r.error().format();
            return false;
        }
        v = *r;
        return true;
    }
    if (v.is_array()) {
        Json out = Json::array();
        for (auto& e : v) {
            const bool splice = e.is_string() && isWholeExpression(e.get<std::string>());
            if (!evalDeep(e, ctx, error)) return false;
            if (splice && e.is_array()) {
                for (auto& item : e) out.push_back(std::move(item));
            } else {
                out.push_back(std::move(e));
            }
        }
        v = std::move(out);
        return true;
    }
    if (v.is_object()) {
        Json out = Json::object();
        for (auto& [key, value] : v.items()) {
            if (!evalDeep(value, ctx, error)) return false;
            if (!expr::containsExpression(key)) {
                out[key] = std::move(value);
                continue;
            }
            if (isInsertKey(key)) {
                if (!value.is_object()) {
                    *error = "${{ insert }} needs a mapping as its value, got " +
                             std::string(value.type_name());
                    return false;
                }
                for (auto& [k, inserted] : value.items()) out[k] = std::move(inserted);
                continue;
            }
            auto r = expr::evaluateTemplate(key, ctx);
            if (!r) {
                *error = "in the key '" + key + "': " + r.error().format();
                return false;
            }
            out[expr::toDisplayString(*r)] = std::move(value);
        }
        v = std::move(out);
    }
    return true;
}

expr::EvalContext jobLevelContext(const RunOptions& opts, const Json& needs, const Json& inputs) {
    expr::EvalContext ctx;
    Json github = opts.github.is_object() ? opts.github : Json::object();
    github["event_name"] = opts.event_name;
    github["event"] = opts.event;
    fillPullRequestRefs(github, opts.event_name, opts.event);
    ctx.contexts["github"] = github;
    ctx.contexts["needs"] = needs;
    ctx.contexts["vars"] = toJson(opts.vars);
    ctx.contexts["inputs"] = inputs;
    return ctx;
}

// --matrix k:v filters: a combination must match one of the values given for each key it has
// (repeating a key means any of its values).
bool matchesFilter(const Json& combo, const RunOptions& opts) {
    std::map<std::string, bool> matched;  // key -> one of its values matched
    for (const auto& [k, v] : opts.matrix_filter) {
        if (!combo.contains(k)) continue;
        const Json& c = combo[k];
        matched[k] = matched[k] || (c.is_string() ? c.get<std::string>() : c.dump()) == v;
    }
    return std::all_of(matched.begin(), matched.end(), [](const auto& kv) { return kv.second; });
}

}  // namespace

std::vector<JobInstance> planInstances(const workflow::Workflow& wf, const workflow::Job& job,
                                       const RunOptions& opts, const Json& needs, std::string* error) {
    const Json inputs = typedInputs(wf, opts.event_name, opts.inputs);
    auto ctx = jobLevelContext(opts, needs, inputs);
    std::vector<Json> combos{Json::object()};
    Json failFast = true, maxParallel = nullptr;
    std::vector<std::string> keyOrder;
    if (job.strategy) {
        Json matrix = job.strategy->matrix;
        failFast = job.strategy->fail_fast;
        maxParallel = job.strategy->max_parallel;
        keyOrder = job.strategy->matrix_keys;
        if (!evalDeep(matrix, ctx, error) || !evalDeep(failFast, ctx, error) || !evalDeep(maxParallel, ctx, error)) {
            *error = "in strategy of job '" + job.id + "': " + *error;
            return {};
        }
        auto expanded = workflow::expandMatrix(matrix, keyOrder);
        if (!expanded) {
            *error = "in strategy.matrix of job '" + job.id + "': " + expanded.error();
            return {};
        }
        combos.clear();
        for (auto& c : *expanded) {
            if (matchesFilter(c, opts)) combos.push_back(std::move(c));
        }
    }
    std::vector<JobInstance> out;
    for (size_t i = 0; i < combos.size(); ++i) {
        JobInstance inst;
        inst.workflow = &wf;
        inst.job = &job;
        inst.matrix = combos[i];
        inst.needs = needs;
        inst.inputs = inputs;
        inst.strategy = Json{{"fail-fast", expr::isTruthy(failFast)},
                             {"job-index", i},
                             {"job-total", combos.size()},
                             {"max-parallel", maxParallel.is_number() ? maxParallel : Json(combos.size())}};
        std::string name = job.name.empty() ? job.id : job.name;
        if (expr::containsExpression(name)) {
            auto c = ctx;
            c.contexts["matrix"] = inst.matrix;
            c.contexts["strategy"] = inst.strategy;
            auto r = expr::interpolate(name, c);
            name = r ? *r : name;
        } else if (!inst.matrix.empty()) {
            name += " (" + workflow::describeCombination(inst.matrix, keyOrder) + ")";
        }
        inst.display_name = name;
        out.push_back(std::move(inst));
    }
    return out;
}

namespace {

struct JobState {
    const workflow::Job* job = nullptr;
    enum class Phase { kWaiting, kRunning, kDone } phase = Phase::kWaiting;
    std::deque<JobInstance> queued;
    size_t running = 0;
    size_t pending = 0;  // instances waiting for their concurrency group
    size_t max_parallel = SIZE_MAX;
    bool fail_fast = true;
    bool failed = false;
    bool cancelled = false;
    // An instance was cancelled by its concurrency group (a newer one waiting, or
    // cancel-in-progress): the job ends cancelled, its other instances go on.
    bool lost_to_group = false;
    std::vector<std::unique_ptr<std::stop_source>> stops;
    std::map<std::string, std::string> outputs;
    Result result = Result::kSuccess;
};

class Scheduler {
public:
    Scheduler(const workflow::Workflow& wf, const RunOptions& opts, RunReporter& reporter,
              SecretMasker& masker, std::stop_token cancel)
        : wf_(wf), opts_(opts), reporter_(reporter), masker_(masker), cancel_(std::move(cancel)) {}

    WorkflowReport run(const std::vector<std::string>& ids) {
        const auto start = Clock::now();
        for (const auto& id : ids) states_[id].job = wf_.findJob(id);
        order_ = ids;
        std::stop_callback onCancel(cancel_, [this] {
            std::lock_guard lock(mu_);
            for (auto& [id, st] : states_) {
                for (auto& s : st.stops) s->request_stop();
            }
            cv_.notify_all();
        });
        std::vector<std::jthread> threads;
        std::unique_lock lock(mu_);
        for (;;) {
            // Admitting a job, starting an instance and finishing a job can each unblock another.
            bool progress = true;
            while (progress) {
                progress = false;
                for (const auto& id : order_) {
                    auto& st = states_[id];
                    if (st.phase == JobState::Phase::kWaiting && needsDone(*st.job)) {
                        admit(id, st);
                        progress = true;
                    }
                    while (st.phase == JobState::Phase::kRunning && !st.queued.empty() &&
                           st.running < st.max_parallel && running_ < opts_.max_parallel_jobs) {
                        JobInstance inst = std::move(st.queued.front());
                        st.queued.pop_front();
                        enter(id, st, std::move(inst), threads);
                    }
                    if (st.phase == JobState::Phase::kRunning && st.queued.empty() &&
                        st.running == 0 && st.pending == 0) {
                        finish(st);
                        progress = true;
                    }
                }
            }
            // Instances whose concurrency group became free.
            while (auto next = groups_.nextReady()) {
                auto& st = states_[next->job_id];
                --st.pending;
                launch(next->job_id, st, std::move(next->instance), next->group, threads);
                progress = true;
            }
            if (progress) continue;
            bool allDone = true;
            for (const auto& id : order_) allDone = allDone && states_[id].phase == JobState::Phase::kDone;
            if (allDone) break;
            cv_.wait(lock);
        }
        lock.unlock();
        threads.clear();  // joins
        report_.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        report_.result = Result::kSuccess;
        for (const auto& id : order_) {
            const auto r = states_[id].result;
            if (r == Result::kFailure) report_.result = Result::kFailure;
            if (r == Result::kCancelled && report_.result == Result::kSuccess) report_.result = Result::kCancelled;
        }
        return std::move(report_);
    }

private:
    bool needsDone(const workflow::Job& job) {
        for (const auto& n : job.needs) {
            if (states_[n].phase != JobState::Phase::kDone) return false;
        }
        return true;
    }

    Json needsContext(const workflow::Job& job) {
        Json needs = Json::object();
        for (const auto& n : job.needs) {
            needs[n] = Json{{"result", resultName(states_[n].result)}, {"outputs", toJson(states_[n].outputs)}};
        }
        return needs;
    }

    void skip(JobState& st, Result r, const std::string& why) {
        st.phase = JobState::Phase::kDone;
        st.result = r;
        JobInstance inst;
        inst.workflow = &wf_;
        inst.job = st.job;
        inst.display_name = st.job->name.empty() || expr::containsExpression(st.job->name) ? st.job->id : st.job->name;
        JobOutcome o;
        o.result = r;
        o.error = why;
        report_.jobs.push_back({st.job->id, inst.display_name, Json::object(), o});
        reporter_.jobFinished(inst, o);
    }

    // Every job in the needs chain above `job` (its needs, their needs, ...), each once.
    std::vector<std::string> ancestors(const workflow::Job& job) const {
        std::vector<std::string> out;
        std::vector<const workflow::Job*> todo{&job};
        while (!todo.empty()) {
            const workflow::Job* j = todo.back();
            todo.pop_back();
            for (const auto& n : j->needs) {
                if (std::find(out.begin(), out.end(), n) != out.end()) continue;
                out.push_back(n);
                if (const auto* parent = wf_.findJob(n)) todo.push_back(parent);
            }
        }
        return out;
    }

    void admit(const std::string& id, JobState& st) {
        const auto& job = *st.job;
        Json needs = needsContext(job);
        // A job's success() and failure() look at the whole needs chain, not only its direct
        // needs (as on GitHub, actions/runner#2205, and in act): a failure or skip upstream skips
        // every job below it that has no status function, even past a job that ran through
        // always().
        bool needsOk = true, needsFailed = false;
        std::string notOk;
        for (const auto& n : ancestors(job)) {
            const Result r = states_[n].result;
            if (r != Result::kSuccess && notOk.empty()) {
                notOk = "job '" + n + "' " +
                        (std::find(job.needs.begin(), job.needs.end(), n) != job.needs.end()
                             ? "it needs"
                             : "further up its needs") +
                        " was " + resultName(r);
            }
            needsOk = needsOk && r == Result::kSuccess;
            needsFailed = needsFailed || r == Result::kFailure;
        }
        auto ctx = jobLevelContext(opts_, needs, typedInputs(wf_, opts_.event_name, opts_.inputs));
        const bool cancelled = cancel_.stop_requested();
        ctx.success = [&] { return needsOk && !cancelled; };
        ctx.failure = [&] { return needsFailed; };
        ctx.cancelled = [&] { return cancelled; };
        auto cond = expr::evaluateCondition(job.if_cond.empty() ? "success()" : job.if_cond, ctx);
        if (!cond) {
            skip(st, Result::kFailure, "in 'if' of job '" + id + "': " + cond.error().format());
            return;
        }
        if (!*cond) {
            skip(st, cancelled ? Result::kCancelled : Result::kSkipped,
                 needsOk ? "the job's condition is false" : notOk);
            return;
        }
        std::string error;
        auto instances = planInstances(wf_, job, opts_, needs, &error);
        if (!error.empty()) {
            skip(st, Result::kFailure, error);
            return;
        }
        if (instances.empty()) {
            skip(st, Result::kSkipped, "no matrix combination matches --matrix");
            return;
        }
        const Json& strategy = instances.front().strategy;
        st.fail_fast = strategy["fail-fast"].get<bool>();
        if (strategy["max-parallel"].is_number() && strategy["max-parallel"].get<double>() >= 1) {
            st.max_parallel = static_cast<size_t>(strategy["max-parallel"].get<double>());
        }
        st.queued.assign(instances.begin(), instances.end());
        st.phase = JobState::Phase::kRunning;
    }

    // The context of an instance's job-level keys (concurrency, continue-on-error, a call's
    // with:): the job level's, with the instance's matrix and strategy.
    expr::EvalContext instanceContext(const JobInstance& inst) const {
        expr::EvalContext ctx = jobLevelContext(opts_, inst.needs, inst.inputs);
        ctx.contexts["matrix"] = inst.matrix;
        ctx.contexts["strategy"] = inst.strategy;
        return ctx;
    }

    // An instance's concurrency group ("" for none) and cancel-in-progress, evaluated with the
    // contexts a job's concurrency sees; an error fails the instance.
    struct GroupChoice {
        std::string group;
        bool cancel_in_progress = false;
        std::string error;
    };
    GroupChoice groupOf(const workflow::Job& job, const JobInstance& inst) {
        GroupChoice out;
        if (job.concurrency.is_null()) return out;
        expr::EvalContext ctx = instanceContext(inst);
        Json group = job.concurrency.is_object() ? job.concurrency.value("group", Json()) : job.concurrency;
        Json cancel = job.concurrency.is_object()
                          ? job.concurrency.value("cancel-in-progress", Json(false))
                          : Json(false);
        for (Json* v : {&group, &cancel}) {
            if (!v->is_string()) continue;
            auto r = expr::evaluateTemplate(v->get<std::string>(), ctx);
            if (!r) {
                out.error = "in concurrency of job '" + job.id + "': " + r.error().format();
                return out;
            }
            *v = *r;
        }
        out.group = group.is_null() ? "" : group.is_string() ? group.get<std::string>() : group.dump();
        out.cancel_in_progress = expr::isTruthy(cancel);
        return out;
    }

    // Ends an instance that never ran (its concurrency failed, or a newer one took its place).
    void endUnrun(const std::string& id, JobState& st, const JobInstance& inst, Result r,
                  const std::string& why) {
        JobOutcome o;
        o.result = r;
        o.error = why;
        if (r == Result::kFailure) st.failed = true;
        if (r == Result::kCancelled) st.lost_to_group = true;
        reporter_.jobFinished(inst, o);
        report_.jobs.push_back({id, inst.display_name, inst.matrix, std::move(o)});
    }

    // As GitHub within one run: a group runs one instance at a time and holds at most one
    // waiting; a newer waiting one cancels the older, and cancel-in-progress cancels the
    // running one.
    void enter(const std::string& id, JobState& st, JobInstance inst,
               std::vector<std::jthread>& threads) {
        auto choice = groupOf(*st.job, inst);
        if (!choice.error.empty()) {
            endUnrun(id, st, inst, Result::kFailure, choice.error);
            return;
        }
        if (choice.group.empty()) {
            launch(id, st, std::move(inst), "", threads);
            return;
        }
        if (groups_.take(choice.group)) {
            launch(id, st, std::move(inst), choice.group, threads);
            return;
        }
        ++st.pending;
        auto displaced = groups_.wait({id, std::move(inst), choice.group}, choice.cancel_in_progress);
        if (displaced) {
            auto& older = states_[displaced->job_id];
            --older.pending;
            endUnrun(displaced->job_id, older, displaced->instance, Result::kCancelled,
                     ConcurrencyGroups::lostMessage(choice.group));
        }
    }

    void launch(const std::string& id, JobState& st, JobInstance inst, const std::string& group,
                std::vector<std::jthread>& threads) {
        ++st.running;
        ++running_;
        st.stops.push_back(std::make_unique<std::stop_source>());
        std::stop_token token = st.stops.back()->get_token();
        if (cancel_.stop_requested() || st.cancelled) st.stops.back()->request_stop();
        std::stop_source* stop = st.stops.back().get();
        if (!group.empty()) groups_.started(group, stop);
        threads.emplace_back([this, id, inst = std::move(inst), token, group, stop]() mutable {
            if (!inst.job->uses.empty()) {
                CallResult call = runCall(inst, token);
                std::lock_guard lock(mu_);
                for (auto& j : call.jobs) report_.jobs.push_back(std::move(j));
                completed(id, inst, std::move(call.outcome), group, stop);
                return;
            }
            auto observer = reporter_.jobStarted(inst);
            JobOutcome outcome = runJob(inst, opts_, *observer, masker_, token);
            if (outcome.result == Result::kCancelled && !group.empty()) {
                std::lock_guard lock(mu_);
                if (groups_.stoppedByGroup(stop)) outcome.error = ConcurrencyGroups::lostMessage(group);
            }
            reporter_.jobFinished(inst, outcome);
            observer.reset();
            std::lock_guard lock(mu_);
            completed(id, inst, std::move(outcome), group, stop);
        });
    }

    // A job that calls a reusable workflow: its jobs run as a nested run (reported as
    // "<caller> / <callee>"); a call that cannot start fails the calling job with the reason.
    CallResult runCall(const JobInstance& inst, std::stop_token token) {
        expr::EvalContext ctx = instanceContext(inst);
        ctx.contexts["secrets"] = toJson(opts_.secrets);
        try {
            return runWorkflowCall(inst, opts_, ctx, reporter_, masker_, std::move(token));
        } catch (const base::Error& e) {
            CallResult failed;
            failed.outcome.result = Result::kFailure;
            failed.outcome.error = masker_.mask(e.what());
            reporter_.jobFinished(inst, failed.outcome);
            return failed;
        }
    }

    void completed(const std::string& id, const JobInstance& inst, JobOutcome outcome,
                   const std::string& group, std::stop_source* stop) {
        auto& st = states_[id];
        --st.running;
        --running_;
        const bool byGroup = groups_.release(group, stop);
        bool continueOnError = false;
        {
            Json coe = st.job->continue_on_error;
            if (coe.is_string()) {
                expr::EvalContext ctx = instanceContext(inst);
                auto r = expr::evaluateTemplate(coe.get<std::string>(), ctx);
                coe = r ? Json(*r) : Json(false);
            }
            continueOnError = expr::isTruthy(coe);
        }
        if (outcome.result == Result::kFailure && !continueOnError) {
            st.failed = true;
            if (st.fail_fast && !st.cancelled) {
                st.cancelled = true;
                for (auto& s : st.stops) s->request_stop();
            }
        }
        if (outcome.result == Result::kCancelled) (byGroup ? st.lost_to_group : st.cancelled) = true;
        for (const auto& [k, v] : outcome.outputs) {
            if (!v.empty()) st.outputs[k] = v;
        }
        report_.jobs.push_back({id, inst.display_name, inst.matrix, std::move(outcome)});
        cv_.notify_all();
    }

    void finish(JobState& st) {
        st.phase = JobState::Phase::kDone;
        st.result = st.failed                           ? Result::kFailure
                    : st.cancelled || st.lost_to_group ? Result::kCancelled
                                                       : Result::kSuccess;
    }

    const workflow::Workflow& wf_;
    const RunOptions& opts_;
    RunReporter& reporter_;
    SecretMasker& masker_;
    std::stop_token cancel_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::map<std::string, JobState> states_;
    std::vector<std::string> order_;
    size_t running_ = 0;
    WorkflowReport report_;
    ConcurrencyGroups groups_;  // the concurrency groups of this run
};

}  // namespace

WorkflowReport runWorkflow(const workflow::Workflow& wf, const std::vector<std::string>& selected,
                           const RunOptions& opts, RunReporter& reporter, SecretMasker& masker,
                           std::stop_token cancel) {
    auto order = workflow::orderJobs(wf);
    std::vector<std::string> ids = order ? *order : std::vector<std::string>{};
    if (!selected.empty()) {
        auto wanted = workflow::withDependencies(wf, selected);
        std::erase_if(ids, [&](const std::string& id) {
            return std::find(wanted.begin(), wanted.end(), id) == wanted.end();
        });
    }
    Scheduler s(wf, opts, reporter, masker, std::move(cancel));
    return s.run(ids);
}

}  // namespace nixjail::runner::engine
