// Reads a workflow file with yaml-cpp; the only place the workflow model meets YAML.
#include "runner/workflow/workflow_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <regex>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/workflow/duplicate_keys.h"
#include "runner/workflow/expression_check.h"
#include "runner/workflow/source_text.h"
#include "runner/workflow/yaml_json.h"

namespace nixjail::runner::workflow {

namespace {

const std::vector<std::string> kTopKeys = {"name", "run-name", "on", "permissions", "env",
                                           "defaults", "concurrency", "jobs"};
const std::vector<std::string> kJobKeys = {
    "name",  "permissions",     "needs",     "if",       "runs-on",  "environment",
    "concurrency", "outputs",   "env",       "defaults", "steps",    "timeout-minutes",
    "strategy",    "continue-on-error", "container", "services", "uses", "with",
    "secrets"};
const std::vector<std::string> kStepKeys = {"id",    "if",  "name", "uses", "run",
                                            "working-directory", "shell", "with", "env",
                                            "continue-on-error", "timeout-minutes"};
const std::vector<std::string> kStrategyKeys = {"matrix", "fail-fast", "max-parallel"};
const std::vector<std::string> kDefaultsKeys = {"run"};
const std::vector<std::string> kRunDefaultsKeys = {"shell", "working-directory"};
const std::vector<std::string> kContainerKeys = {"image", "credentials", "env",
                                                 "ports", "volumes",     "options"};
const std::vector<std::string> kCredentialsKeys = {"username", "password"};
const std::vector<std::string> kConcurrencyKeys = {"group", "cancel-in-progress"};
const std::vector<std::string> kEnvironmentKeys = {"name", "url"};

class Loader {
public:
    explicit Loader(const SourceText& src) : src_(src), file_(src.file()) {}

    Diagnostics& diags() { return diags_; }

    void error(const YAML::Mark& mark, const std::string& message) {
        diags_.push_back(src_.at(mark, message));
    }

    void error(const YAML::Node& node, const std::string& message) {
        diags_.push_back(src_.atNode(node, message));
    }

    SourcePos pos(const YAML::Node& node) { return {node.Mark().line + 1, node.Mark().column + 1}; }

    // Reports keys not in `known`, with a suggestion. Returns false when the node is no mapping.
    bool checkMap(const YAML::Node& node, const std::vector<std::string>& known, const std::string& what) {
        if (!node.IsMap()) {
            error(node, what + " must be a mapping");
            return false;
        }
        for (const auto& kv : node) {
            const std::string key = kv.first.Scalar();
            if (std::find(known.begin(), known.end(), key) != known.end()) continue;
            std::string msg = "unknown key '" + key + "' in " + what;
            std::string hint = closestMatch(key, known);
            if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
            error(kv.first, msg);
        }
        return true;
    }

    std::string scalar(const YAML::Node& node, const std::string& what) {
        if (!node || node.IsNull()) return "";
        if (!node.IsScalar()) {
            error(node, what + " must be a string");
            return "";
        }
        return node.Scalar();
    }

    EnvList env(const YAML::Node& node, const std::string& what) {
        EnvList out;
        if (!node || node.IsNull()) return out;
        if (node.IsScalar()) {
            error(node, what + " as one expression is not supported; list the variables");
            return out;
        }
        if (!node.IsMap()) {
            error(node, what + " must be a mapping of names to values");
            return out;
        }
        for (const auto& kv : node) {
            if (!kv.second.IsScalar() && !kv.second.IsNull()) {
                error(kv.second, what + " value for '" + kv.first.Scalar() + "' must be a string");
                continue;
            }
            out.emplace_back(kv.first.Scalar(), scalarText(kv.second));
        }
        return out;
    }

    std::map<std::string, std::string> stringMap(const YAML::Node& node, const std::string& what) {
        std::map<std::string, std::string> out;
        for (auto& [k, v] : env(node, what)) out[k] = v;
        return out;
    }

    RunDefaults defaults(const YAML::Node& node, const std::string& what) {
        RunDefaults out;
        if (!node) return out;
        if (!checkMap(node, kDefaultsKeys, what)) return out;
        const auto run = node["run"];
        if (!run) return out;
        if (!checkMap(run, kRunDefaultsKeys, what + ".run")) return out;
        if (run["shell"]) out.shell = scalar(run["shell"], "shell");
        if (run["working-directory"]) out.working_directory = scalar(run["working-directory"], "working-directory");
        return out;
    }

    Json on(const YAML::Node& node) {
        Json out = Json::object();
        if (!node) {
            diags_.push_back({file_, 0, 0, "the workflow has no 'on' section", {}});
            return out;
        }
        if (node.IsScalar()) {
            out[node.Scalar()] = nullptr;
        } else if (node.IsSequence()) {
            for (const auto& e : node) out[scalar(e, "event name")] = nullptr;
        } else if (node.IsMap()) {
            for (const auto& kv : node) out[kv.first.Scalar()] = yamlToJson(kv.second);
        } else {
            error(node, "'on' must name events");
        }
        return out;
    }

    Step step(const YAML::Node& node, size_t index) {
        Step s;
        s.pos = pos(node);
        if (!checkMap(node, kStepKeys, "step " + std::to_string(index + 1))) return s;
        s.id = scalar(node["id"], "step id");
        s.name = scalar(node["name"], "step name");
        s.if_cond = scalar(node["if"], "step if");
        s.run = scalar(node["run"], "run");
        s.uses = scalar(node["uses"], "uses");
        s.shell = scalar(node["shell"], "shell");
        s.working_directory = scalar(node["working-directory"], "working-directory");
        s.env = env(node["env"], "step env");
        s.with = stringMap(node["with"], "with");
        if (node["continue-on-error"]) s.continue_on_error = yamlToJson(node["continue-on-error"]);
        if (node["timeout-minutes"]) s.timeout_minutes = yamlToJson(node["timeout-minutes"]);
        if (s.run.empty() == s.uses.empty()) {
            error(node, "a step needs exactly one of 'run' or 'uses'");
        }
        // As GitHub refuses the file: a step's `uses` is a local path, a docker:// image or
        // {org}/{repo}[/path]@ref, written out (no expressions).
        if (!s.uses.empty() && !s.uses.starts_with("./") && !s.uses.starts_with("docker://")) {
            static const std::regex kRemote(R"([^/@\s]+/[^/@\s]+(/[^@\s]+)?@[^@\s]+)");
            if (!std::regex_match(s.uses, kRemote)) {
                error(node["uses"], "Expected format {org}/{repo}[/path]@ref. Actual '" + s.uses + "'");
            }
        }
        if (!s.id.empty()) {
            static const std::regex kId("[A-Za-z_][A-Za-z0-9_-]*");
            if (!std::regex_match(s.id, kId)) {
                error(node["id"], "step id '" + s.id +
                                      "' must start with a letter or '_' and contain only letters, "
                                      "digits, '-' and '_'");
            }
        }
        return s;
    }

    Strategy strategy(const YAML::Node& node) {
        Strategy st;
        if (!checkMap(node, kStrategyKeys, "strategy")) return st;
        const auto m = node["matrix"];
        if (m) {
            st.matrix = yamlToJson(m);
            if (m.IsMap()) {
                for (const auto& kv : m) st.matrix_keys.push_back(kv.first.Scalar());
                for (const auto& kv : m) {
                    const auto key = kv.first.Scalar();
                    if (key == "include" || key == "exclude") {
                        if (!kv.second.IsSequence() && !kv.second.IsScalar()) {
                            error(kv.second, "matrix '" + key + "' must be a list of mappings");
                        }
                    } else if (!kv.second.IsSequence() && !kv.second.IsScalar()) {
                        error(kv.second, "matrix key '" + key + "' must be a list of values");
                    } else if (kv.second.IsSequence() && kv.second.size() == 0) {
                        error(kv.second, "matrix key '" + key + "' has no values");
                    }
                }
            } else if (!m.IsScalar()) {
                error(m, "matrix must be a mapping or an expression");
            }
        }
        if (node["fail-fast"]) st.fail_fast = yamlToJson(node["fail-fast"]);
        if (node["max-parallel"]) st.max_parallel = yamlToJson(node["max-parallel"]);
        return st;
    }

    Job job(const std::string& id, const YAML::Node& node) {
        Job j;
        j.id = id;
        j.pos = pos(node);
        if (!checkMap(node, kJobKeys, "job '" + id + "'")) return j;
        j.name = scalar(node["name"], "job name");
        j.if_cond = scalar(node["if"], "job if");
        j.uses = scalar(node["uses"], "uses");
        if (node["with"]) j.with_inputs = yamlToJson(node["with"]);
        if (node["secrets"]) j.secrets = yamlToJson(node["secrets"]);
        if (const auto c = node["container"]) {
            checkContainer(c, "job '" + id + "' container");
            j.container = yamlToJson(c);
        }
        if (const auto services = node["services"]; services && services.IsMap()) {
            for (const auto& kv : services) {
                checkContainer(kv.second, "job '" + id + "' service '" + kv.first.Scalar() + "'");
                j.services.emplace_back(kv.first.Scalar(), yamlToJson(kv.second));
            }
        }
        if (const auto c = node["concurrency"]; c && c.IsMap()) {
            checkMap(c, kConcurrencyKeys, "job '" + id + "' concurrency");
        }
        if (const auto c = node["concurrency"]) j.concurrency = yamlToJson(c);
        if (const auto e = node["environment"]; e && e.IsMap()) {
            checkMap(e, kEnvironmentKeys, "job '" + id + "' environment");
        }
        if (const auto needs = node["needs"]) {
            if (needs.IsScalar()) {
                j.needs.push_back(needs.Scalar());
            } else if (needs.IsSequence()) {
                for (const auto& n : needs) j.needs.push_back(scalar(n, "needs entry"));
            } else {
                error(needs, "'needs' must be a job id or a list of job ids");
            }
        }
        if (node["runs-on"]) j.runs_on = yamlToJson(node["runs-on"]);
        j.env = env(node["env"], "job env");
        j.defaults = defaults(node["defaults"], "job defaults");
        j.outputs = stringMap(node["outputs"], "job outputs");
        if (node["timeout-minutes"]) j.timeout_minutes = yamlToJson(node["timeout-minutes"]);
        if (node["continue-on-error"]) j.continue_on_error = yamlToJson(node["continue-on-error"]);
        if (node["strategy"]) j.strategy = strategy(node["strategy"]);
        const auto steps = node["steps"];
        if (steps) {
            if (!steps.IsSequence()) {
                error(steps, "'steps' must be a list");
            } else {
                for (size_t i = 0; i < steps.size(); ++i) j.steps.push_back(step(steps[i], i));
            }
        }
        if (!j.uses.empty()) {
            static const std::regex kLocal(R"(\./\.github/workflows/[^@\s]+\.ya?ml)");
            static const std::regex kRemote(
                R"([^/@\s]+/[^/@\s]+/\.github/workflows/[^@\s]+\.ya?ml@[^@\s]+)");
            if (!std::regex_match(j.uses, kLocal) && !std::regex_match(j.uses, kRemote)) {
                error(node["uses"],
                      "Expected format {owner}/{repo}/.github/workflows/{filename}@{ref} or "
                      "./.github/workflows/{filename}. Actual '" +
                          j.uses + "'");
            }
        }
        if (j.uses.empty() && !steps) error(node, "job '" + id + "' has no 'steps'");
        if (j.uses.empty() && !node["runs-on"]) error(node, "job '" + id + "' has no 'runs-on'");
        static const std::regex kJobId("[A-Za-z_][A-Za-z0-9_-]*");
        if (!std::regex_match(id, kJobId)) {
            error(node, "job id '" + id +
                            "' must start with a letter or '_' and contain only letters, digits, "
                            "'-' and '_'");
        }
        return j;
    }

    Workflow workflow(const YAML::Node& root) {
        Workflow wf;
        wf.file = file_;
        if (!root.IsMap()) {
            if (root.IsNull()) {
                diags_.push_back({file_, 0, 0, "the workflow file is empty", {}});
            } else {
                error(root, "a workflow must be a mapping with 'on' and 'jobs'");
            }
            return wf;
        }
        checkMap(root, kTopKeys, "the workflow");
        if (const auto c = root["concurrency"]; c && c.IsMap()) {
            checkMap(c, kConcurrencyKeys, "the workflow's concurrency");
        }
        wf.name = scalar(root["name"], "workflow name");
        // yaml-cpp reads a bare `on:` key as the string "on" (YAML 1.2), which is what we want.
        wf.on = on(root["on"]);
        wf.env = env(root["env"], "workflow env");
        wf.defaults = defaults(root["defaults"], "workflow defaults");
        const auto jobs = root["jobs"];
        if (!jobs) {
            diags_.push_back({file_, 0, 0, "the workflow has no 'jobs'", {}});
        } else if (!jobs.IsMap() || jobs.size() == 0) {
            error(jobs, "'jobs' must be a mapping of job ids to jobs");
        } else {
            for (const auto& kv : jobs) wf.jobs.push_back(job(kv.first.Scalar(), kv.second));
        }
        return wf;
    }

private:
    // container: and services.<id>: take an image name or a mapping of known keys.
    void checkContainer(const YAML::Node& node, const std::string& what) {
        if (!node.IsMap()) return;
        checkMap(node, kContainerKeys, what);
        if (const auto cred = node["credentials"]; cred && !cred.IsScalar()) {
            checkMap(cred, kCredentialsKeys, what + " credentials");
        }
    }

    const SourceText& src_;
    std::string file_;
    Diagnostics diags_;
};

}  // namespace

base::Result<Workflow, Diagnostics> parseWorkflow(const std::string& text, const std::string& file) {
    SourceText src(text, file);
    Loader loader(src);
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        loader.error(e.mark, "invalid YAML: " + e.msg);
        return base::unexpected(loader.diags());
    }
    Workflow wf;
    try {
        checkDuplicateKeys(root, src, loader.diags());
        wf = loader.workflow(root);
        checkWorkflowExpressions(root, src, loader.diags());
    } catch (const YAML::Exception& e) {
        loader.error(e.mark, "invalid workflow: " + e.msg);
    }
    if (loader.diags().empty()) {
        auto more = validateWorkflow(wf);
        loader.diags().insert(loader.diags().end(), more.begin(), more.end());
    }
    if (!loader.diags().empty()) return base::unexpected(loader.diags());
    return wf;
}

base::Result<Workflow, Diagnostics> loadWorkflowFile(const std::filesystem::path& file) {
    std::string text;
    try {
        text = base::readFile(file);
    } catch (const base::Error& e) {
        return base::unexpected(Diagnostics{{file.string(), 0, 0, e.what(), {}}});
    }
    return parseWorkflow(text, file.string());
}

}  // namespace nixjail::runner::workflow
