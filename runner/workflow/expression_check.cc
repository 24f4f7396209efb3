// Walks a workflow's (or composite action's) YAML by key and parses each `${{ }}` and `if:` with
// the expression parser, checking the named-values and special functions against the key's row of
// the context availability table. Values are checked, never mapping keys.
#include "runner/workflow/expression_check.h"

#include <algorithm>
#include <string>

#include "runner/base/ascii.h"
#include "runner/expr/parser.h"
#include "runner/workflow/context_availability.h"

namespace nixjail::runner::workflow {

namespace {

YAML::Node child(const YAML::Node& node, const char* key) {
    if (!node || !node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    return node[key];
}

std::string listed(const std::vector<std::string_view>& names) {
    std::string out;
    for (auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
    return out;
}

bool isContextName(std::string_view name) {
    const auto& names = contextNames();
    return std::find(names.begin(), names.end(), base::asciiLower(std::string(name))) !=
           names.end();
}

class ExpressionChecker {
  public:
    ExpressionChecker(const SourceText& src, Diagnostics& out) : src_(src), out_(out) {}

    // Every scalar under node (values of mappings and items of lists) as a template.
    void value(const YAML::Node& node, std::string_view key) {
        if (!node) return;
        if (node.IsScalar()) {
            scalar(node, key, false);
        } else if (node.IsSequence()) {
            for (const auto& item : node) value(item, key);
        } else if (node.IsMap()) {
            for (const auto& kv : node) value(kv.second, key);
        }
    }

    void condition(const YAML::Node& node, std::string_view key) {
        if (node && node.IsScalar()) scalar(node, key, true);
    }

  private:
    void scalar(const YAML::Node& node, std::string_view key, bool isCondition) {
        const std::string& text = node.Scalar();
        if (!isCondition && text.find("${{") == std::string::npos) return;
        const Availability* row = availabilityFor(key);
        expr::ParseOptions options;
        options.isNamedValue = isContextName;
        options.namedValues = contextNames();
        const bool status = row ? row->status_functions : isCondition;
        options.statusFunctionAllowed = [status](expr::Function) { return status; };
        auto parsed =
            isCondition ? expr::parseCondition(text, options) : expr::parseTemplate(text, options);
        if (!parsed) {
            const auto& e = parsed.error();
            out_.push_back(
                src_.inScalar(node, text, e.position,
                              "invalid expression in " + std::string(key) + ": " + e.message));
            return;
        }
        if (!row) return;
        for (const auto& p : *parsed) checkTree(*p.tree, p.offset, node, *row);
    }

    void checkTree(const expr::Node& n, size_t offset, const YAML::Node& node,
                   const Availability& row) {
        const std::string& text = node.Scalar();
        if (n.kind == expr::NodeKind::NamedValue) {
            const std::string name = base::asciiLower(n.name);
            if (std::find(row.contexts.begin(), row.contexts.end(), name) == row.contexts.end()) {
                std::string msg = "context '" + name + "' is not available in " +
                                  std::string(row.key) + " (GitHub's context availability); " +
                                  "available there: " + listed(row.contexts);
                if (name == "secrets" && row.key.find("steps.if") != std::string_view::npos) {
                    msg += "; to test a secret, set it in env: and test env.<NAME>";
                }
                out_.push_back(src_.inScalar(node, text, offset + n.pos, msg));
            }
        } else if (n.kind == expr::NodeKind::Function && n.function == expr::Function::HashFiles &&
                   !row.hash_files) {
            out_.push_back(src_.inScalar(node, text, offset + n.pos,
                                         "hashFiles() is not available in " + std::string(row.key) +
                                             "; it works only in a step's keys"));
        }
        for (const auto& a : n.args) checkTree(*a, offset, node, row);
    }

    const SourceText& src_;
    Diagnostics& out_;
};

void checkSteps(ExpressionChecker& c, const YAML::Node& steps, const std::string& prefix) {
    if (!steps || !steps.IsSequence()) return;
    for (const auto& step : steps) {
        if (!step.IsMap()) continue;
        c.condition(step["if"], prefix + "if");
        for (const char* key : {"name", "run", "env", "with", "working-directory",
                                "continue-on-error", "timeout-minutes"}) {
            c.value(step[key], prefix + key);
        }
    }
}

// container: and services.<id>: share their shape; credentials and env have rows of their own.
void checkContainer(ExpressionChecker& c, const YAML::Node& node, const std::string& prefix,
                    const std::string& row) {
    if (!node || !node.IsMap()) {
        c.value(node, row);
        return;
    }
    for (const auto& kv : node) {
        const std::string key = kv.first.Scalar();
        if (key == "credentials") {
            c.value(kv.second, prefix + ".credentials");
        } else if (key == "env") {
            c.value(kv.second, prefix + ".env.<env_id>");
        } else if (key == "image" && row == "jobs.<job_id>.container") {
            c.value(kv.second, "jobs.<job_id>.container.image");
        } else {
            c.value(kv.second, row);
        }
    }
}

void checkJob(ExpressionChecker& c, const YAML::Node& job) {
    if (!job.IsMap()) return;
    const std::string p = "jobs.<job_id>.";
    c.condition(job["if"], p + "if");
    for (const char* key :
         {"name", "runs-on", "concurrency", "timeout-minutes", "continue-on-error", "strategy"}) {
        c.value(job[key], p + key);
    }
    c.value(job["outputs"], p + "outputs.<output_id>");
    c.value(job["env"], p + "env");
    c.value(child(job["defaults"], "run"), p + "defaults.run");
    c.value(job["with"], p + "with.<with_id>");
    c.value(job["secrets"], p + "secrets.<secrets_id>");
    if (const auto env = job["environment"]; env && env.IsMap()) {
        c.value(env["name"], p + "environment");
        c.value(env["url"], p + "environment.url");
    } else {
        c.value(env, p + "environment");
    }
    checkContainer(c, job["container"], p + "container", p + "container");
    if (const auto services = job["services"]; services && services.IsMap()) {
        for (const auto& kv : services) {
            checkContainer(c, kv.second, p + "services.<service_id>", p + "services");
        }
    }
    checkSteps(c, job["steps"], p + "steps.");
}

}  // namespace

void checkWorkflowExpressions(const YAML::Node& root, const SourceText& src, Diagnostics& out) {
    if (!root || !root.IsMap()) return;
    ExpressionChecker c(src, out);
    c.value(root["run-name"], "run-name");
    c.value(root["concurrency"], "concurrency");
    c.value(root["env"], "env");
    c.value(root["defaults"], "defaults");
    const auto call = child(root["on"], "workflow_call");
    if (const auto inputs = child(call, "inputs"); inputs && inputs.IsMap()) {
        for (const auto& kv : inputs) {
            c.value(child(kv.second, "default"), "on.workflow_call.inputs.<inputs_id>.default");
        }
    }
    if (const auto outputs = child(call, "outputs"); outputs && outputs.IsMap()) {
        for (const auto& kv : outputs) {
            c.value(child(kv.second, "value"), "on.workflow_call.outputs.<output_id>.value");
        }
    }
    if (const auto jobs = root["jobs"]; jobs && jobs.IsMap()) {
        for (const auto& kv : jobs) checkJob(c, kv.second);
    }
}

void checkCompositeStepExpressions(const YAML::Node& steps, const SourceText& src,
                                   Diagnostics& out) {
    ExpressionChecker c(src, out);
    checkSteps(c, steps, "runs.steps.");
}

}  // namespace nixjail::runner::workflow
