// Parsing action metadata; composite steps reuse the workflow loader's step rules.
#include "runner/actions/action_manifest.h"

#include <yaml-cpp/yaml.h>


#include "runner/base/ascii.h"
#include "runner/base/beneath.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/workflow/duplicate_keys.h"
#include "runner/workflow/expression_check.h"
#include "runner/workflow/workflow_loader.h"

namespace nixjail::runner::actions {

namespace fs = std::filesystem;

namespace {
constexpr std::size_t kMaxManifestBytes = 4 * 1024 * 1024;
}  // namespace

ActionManifest loadActionManifest(const fs::path& base, const fs::path& rel) {
    const fs::path dir = (rel.empty() ? base : base / rel).lexically_normal();
    const auto baseFd = base::openDirectoryNoFollow(base, "the action's directory");
    fs::path file;
    std::optional<std::string> text;
    for (const char* name : {"action.yml", "action.yaml"}) {
        file = dir / name;
        text = base::readFileBeneath(baseFd.get(), (rel / name).string(), kMaxManifestBytes,
                                     "'" + file.string() + "'");
        if (text) break;
    }
    if (!text) {
        throw base::Error("no action.yml or action.yaml in '" + dir.string() + "'; is the path right?");
    }
    ActionManifest m;
    m.dir = dir;
    YAML::Node root;
    try {
        root = YAML::Load(*text);
    } catch (const YAML::Exception& e) {
        throw base::ConfigError(file.string(), e.mark.line + 1, e.mark.column + 1, "invalid YAML: " + e.msg);
    }
    if (!root.IsMap()) throw base::ConfigError(file.string(), 0, 0, "an action must be a mapping");
    try {
        if (root["name"]) m.name = root["name"].Scalar();
        if (const auto in = root["inputs"]; in && in.IsMap()) {
            for (const auto& kv : in) {
                ActionInput input;
                if (kv.second.IsMap()) {
                    if (kv.second["default"]) input.default_value = kv.second["default"].Scalar();
                    if (kv.second["required"]) input.required = kv.second["required"].Scalar() == "true";
                }
                m.inputs[base::asciiLower(kv.first.Scalar())] = input;
            }
        }
        if (const auto out = root["outputs"]; out && out.IsMap()) {
            for (const auto& kv : out) {
                m.outputs[kv.first.Scalar()] = kv.second.IsMap() && kv.second["value"] ? kv.second["value"].Scalar() : "";
            }
        }
        const auto runs = root["runs"];
        if (!runs || !runs.IsMap() || !runs["using"]) {
            throw base::ConfigError(file.string(), 0, 0, "the action has no 'runs.using'");
        }
        m.using_ = base::asciiLower(runs["using"].Scalar());
        if (runs["main"]) m.main = runs["main"].Scalar();
        if (runs["pre"]) m.pre = runs["pre"].Scalar();
        if (runs["post"]) m.post = runs["post"].Scalar();
        if (runs["pre-if"]) m.pre_if = runs["pre-if"].Scalar();
        if (runs["post-if"]) m.post_if = runs["post-if"].Scalar();
        if (runs["image"]) m.image = runs["image"].Scalar();
        if (m.using_ == "composite") {
            // Checked on the action's own text, so that diagnostics point into action.yml.
            const workflow::SourceText src(*text, file.string());
            workflow::Diagnostics diags;
            workflow::checkDuplicateKeys(root, src, diags);
            workflow::checkCompositeStepExpressions(runs["steps"], src, diags);
            if (!diags.empty()) {
                throw base::Error("invalid composite action:\n" + workflow::formatAll(diags));
            }
            // Reuse the workflow loader for the steps by wrapping them in a one-job workflow.
            YAML::Emitter em;
            YAML::Node wf;
            wf["on"] = "push";
            wf["jobs"]["composite"]["runs-on"] = "x";
            wf["jobs"]["composite"]["steps"] = runs["steps"] ? runs["steps"] : YAML::Node(YAML::NodeType::Sequence);
            em << wf;
            auto parsed = workflow::parseWorkflow(em.c_str(), file.string() + " (runs.steps)");
            if (!parsed) throw base::Error(workflow::formatAll(parsed.error()));
            m.steps = parsed->jobs.at(0).steps;
        }
    } catch (const YAML::Exception& e) {
        throw base::ConfigError(file.string(), e.mark.line + 1, e.mark.column + 1, e.msg);
    }
    return m;
}

}  // namespace nixjail::runner::actions
