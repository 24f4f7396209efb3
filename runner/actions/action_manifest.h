// action.yml / action.yaml: the parts of an action's metadata the runner acts on.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runner/workflow/workflow.h"

namespace nixjail::runner::actions {

struct ActionInput {
    std::optional<std::string> default_value;
    bool required = false;
};

struct ActionManifest {
    std::filesystem::path dir;
    std::string name;
    std::map<std::string, ActionInput> inputs;
    std::map<std::string, std::string> outputs;  // composite: name -> value expression
    std::string using_;                          // composite, node20, docker, ...
    std::vector<workflow::Step> steps;           // composite
    std::string main, pre, post;                 // node
    std::string pre_if = "always()", post_if = "always()";  // node: conditions of pre and post
    std::string image;                           // docker
};

// Reads action.yml or action.yaml in the directory `rel` below `root` (the workspace, or the
// fetched repository of a remote action), never through a link that leaves `root`: the runner
// reads it as root outside the jail. Throws base::Error naming the file and the problem.
ActionManifest loadActionManifest(const std::filesystem::path& root, const std::filesystem::path& rel);
inline ActionManifest loadActionManifest(const std::filesystem::path& dir) {
    return loadActionManifest(dir, {});
}

}  // namespace nixjail::runner::actions
