// A forge task into a planned job instance and the RunOptions the daemon gives it.
#include "runner/daemon/task_plan.h"

#include <yaml-cpp/yaml.h>

#include "runner/base/error.h"
#include "runner/engine/repository_network_fetch.h"
#include "runner/engine/workflow_runner.h"
#include "runner/workflow/workflow_loader.h"

namespace nixjail::runner::daemon {

using Json = nlohmann::json;

std::string contextString(const Json& ctx, const char* key) {
    if (!ctx.contains(key)) return "";
    const auto& v = ctx[key];
    return v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump();
}

std::string runtimeToken(const forge::Task& task) {
    const std::string runtime = contextString(task.context, "gitea_runtime_token");
    return runtime.empty() ? contextString(task.context, "token") : runtime;
}

namespace {

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

}  // namespace

void prepareTask(PreparedJob& p, const forge::Task& task, const JobResources& res) {
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

}  // namespace nixjail::runner::daemon
