// action.yml / action.yaml: the parts of an action's metadata the runner acts on.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runner/workflow/workflow.h"

namespace nixjail::runner::engine {

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

// Reads action.yml or action.yaml in `dir`; throws base::Error naming the file and the problem.
ActionManifest loadActionManifest(const std::filesystem::path& dir);

}  // namespace nixjail::runner::engine
