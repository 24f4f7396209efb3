// Reusable workflows: resolving the called file, the call's inputs and secrets, a nested run
// with prefixed job names, and the outputs mapped back.
#include "runner/engine/reusable_workflow.h"

#include <chrono>
#include <map>
#include <string>

#include "runner/base/error.h"
#include "runner/actions/action_fetch.h"
#include "runner/engine/event_context.h"
#include "runner/workflow/workflow_loader.h"

namespace nixjail::runner::engine {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
constexpr const char* kWorkflowsDir = ".github/workflows/";

// Names each job of the nested run "<caller> / <callee>" on its way to the caller's reporter.
class PrefixedReporter : public RunReporter {
  public:
    PrefixedReporter(RunReporter& inner, std::string prefix)
        : inner_(inner), prefix_(std::move(prefix)) {}
    std::unique_ptr<JobObserver> jobStarted(const JobInstance& instance) override {
        return inner_.jobStarted(renamed(instance));
    }
    void jobFinished(const JobInstance& instance, const JobOutcome& outcome) override {
        inner_.jobFinished(renamed(instance), outcome);
    }
    std::string name(const std::string& callee) const { return prefix_ + " / " + callee; }

  private:
    JobInstance renamed(const JobInstance& instance) const {
        JobInstance copy = instance;
        copy.display_name = name(instance.display_name);
        return copy;
    }
    RunReporter& inner_;
    std::string prefix_;
};

workflow::Workflow loadCalled(const std::string& uses, const RunOptions& opts) {
    fs::path file;
    if (uses.starts_with("./")) {
        const std::string rel = uses.substr(2);
        if (!rel.starts_with(kWorkflowsDir) || rel.find("..") != std::string::npos) {
            throw base::Error("reusable workflow '" + uses +
                              "': a local one is named ./.github/workflows/<file>.yml");
        }
        if (opts.repo_dir.empty()) {
            throw base::Error("reusable workflow '" + uses +
                              "': a local call needs the repository's working tree");
        }
        file = opts.repo_dir / rel;
    } else {
        ActionRef ref = parseActionRef(uses);
        if (!ref.path.starts_with(kWorkflowsDir)) {
            throw base::Error("reusable workflow '" + uses +
                              "': expected owner/repo/.github/workflows/<file>.yml@ref");
        }
        const fs::path inRepo = ref.path;
        ref.path = inRepo.parent_path().string();
        file = fetchAction(ref, opts.default_actions_url, opts.action_cache_dir) / inRepo.filename();
    }
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
        throw base::Error("reusable workflow '" + uses + "': no such file " + file.string());
    }
    auto wf = workflow::loadWorkflowFile(file);
    if (!wf) {
        throw base::Error("reusable workflow '" + uses + "' is invalid:\n" +
                          workflow::formatAll(wf.error()));
    }
    if (!wf->on.is_object() || !wf->on.contains("workflow_call")) {
        throw base::Error("reusable workflow '" + uses +
                          "' cannot be called: its 'on' has no workflow_call");
    }
    return std::move(*wf);
}

Json evaluated(const Json& v, const expr::EvalContext& ctx, const std::string& what) {
    if (!v.is_string() || !expr::containsExpression(v.get<std::string>())) return v;
    auto r = expr::evaluateTemplate(v.get<std::string>(), ctx);
    if (!r) throw base::Error("in " + what + ": " + r.error().format());
    return *r;
}

std::map<std::string, std::string> callInputs(const workflow::Job& job,
                                              const workflow::Workflow& called,
                                              const expr::EvalContext& ctx) {
    const Json declared = called.triggerSection("workflow_call", "inputs");
    std::map<std::string, std::string> out;
    if (job.with_inputs.is_object()) {
        for (const auto& [name, value] : job.with_inputs.items()) {
            if (!declared.contains(name)) {
                throw base::Error("input '" + name + "' of job '" + job.id +
                                  "' is not defined in the called workflow '" + job.uses + "'");
            }
            out[name] = inputText(evaluated(value, ctx, "with '" + name + "' of job '" + job.id + "'"));
        }
    }
    for (const auto& [name, spec] : declared.items()) {
        if (out.contains(name)) continue;
        if (spec.is_object() && spec.contains("default") && !spec["default"].is_null()) {
            out[name] = inputText(evaluated(spec["default"], ctx, "the default of input '" + name + "'"));
        } else if (spec.is_object() && spec.value("required", false) == true) {
            throw base::Error("input '" + name + "' is required by the called workflow '" +
                              job.uses + "', and job '" + job.id + "' does not give it");
        }
    }
    return out;
}

std::map<std::string, std::string> callSecrets(const workflow::Job& job,
                                               const workflow::Workflow& called,
                                               const RunOptions& opts,
                                               const expr::EvalContext& ctx) {
    const Json declared = called.triggerSection("workflow_call", "secrets");
    std::map<std::string, std::string> out;
    if (job.secrets.is_string() && job.secrets.get<std::string>() == "inherit") {
        out = opts.secrets;
    } else if (job.secrets.is_object()) {
        for (const auto& [name, value] : job.secrets.items()) {
            if (!declared.contains(name)) {
                throw base::Error("secret '" + name + "' of job '" + job.id +
                                  "' is not defined in the called workflow '" + job.uses + "'");
            }
            out[name] = inputText(evaluated(value, ctx, "secret '" + name + "' of job '" + job.id + "'"));
        }
    } else if (!job.secrets.is_null()) {
        throw base::Error("secrets of job '" + job.id + "' must be 'inherit' or a mapping");
    }
    for (const auto& [name, spec] : declared.items()) {
        if (!out.contains(name) && spec.is_object() && spec.value("required", false) == true) {
            throw base::Error("secret '" + name + "' is required by the called workflow '" +
                              job.uses + "', and job '" + job.id + "' does not pass it");
        }
    }
    // The token always reaches a called workflow, as on GitHub.
    if (auto it = opts.secrets.find("GITHUB_TOKEN"); it != opts.secrets.end()) out[it->first] = it->second;
    return out;
}

Result worse(Result a, Result b) {
    auto rank = [](Result r) {
        switch (r) {
            case Result::kFailure: return 3;
            case Result::kCancelled: return 2;
            case Result::kSuccess: return 1;
            case Result::kSkipped: return 0;
        }
        return 0;
    };
    return rank(b) > rank(a) ? b : a;
}

}  // namespace

CallResult runWorkflowCall(const JobInstance& caller, const RunOptions& opts,
                           const expr::EvalContext& ctx, RunReporter& reporter,
                           SecretMasker& masker, std::stop_token cancel) {
    const auto start = std::chrono::steady_clock::now();
    const workflow::Job& job = *caller.job;
    if (opts.call_depth + 1 > kMaxCallDepth) {
        throw base::Error("job '" + job.id + "' calls '" + job.uses + "' " +
                          std::to_string(kMaxCallDepth) +
                          " levels deep: reusable workflows nest at most that far");
    }
    const workflow::Workflow called = loadCalled(job.uses, opts);
    RunOptions nested = opts;
    nested.inputs = callInputs(job, called, ctx);
    nested.secrets = callSecrets(job, called, opts, ctx);
    nested.matrix_filter.clear();  // exec's --matrix selects the caller's combinations only
    nested.call_depth = opts.call_depth + 1;

    PrefixedReporter prefixed(reporter, caller.display_name);
    WorkflowReport report = runWorkflow(called, {}, nested, prefixed, masker, std::move(cancel));

    CallResult out;
    out.outcome.result = report.result;
    Json jobs = Json::object();
    std::map<std::string, Result> results;
    for (auto& jr : report.jobs) {
        auto& entry = jobs[jr.job_id];
        if (!entry.is_object()) entry = Json{{"outputs", Json::object()}};
        results[jr.job_id] = results.contains(jr.job_id) ? worse(results[jr.job_id], jr.outcome.result)
                                                         : jr.outcome.result;
        for (const auto& [k, v] : jr.outcome.outputs) {
            if (!v.empty()) entry["outputs"][k] = v;
        }
        jr.name = prefixed.name(jr.name);
        out.jobs.push_back(std::move(jr));
    }
    for (const auto& [id, r] : results) jobs[id]["result"] = resultName(r);
    expr::EvalContext octx = ctx;
    octx.contexts["jobs"] = jobs;
    octx.contexts["inputs"] = typedInputs(called, nested.event_name, nested.inputs);
    octx.contexts.erase("secrets");
    const Json outputs = called.triggerSection("workflow_call", "outputs");
    for (const auto& [name, spec] : outputs.items()) {
        if (!spec.is_object() || !spec.contains("value")) continue;
        try {
            out.outcome.outputs[name] = inputText(evaluated(spec["value"], octx, "output '" + name + "'"));
        } catch (const base::Error& e) {
            out.outcome.result = Result::kFailure;
            out.outcome.error = std::string("the called workflow's ") + e.what();
        }
    }
    out.outcome.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    return out;
}

}  // namespace nixjail::runner::engine
