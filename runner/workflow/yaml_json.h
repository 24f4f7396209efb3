// Converting yaml-cpp nodes to JSON with YAML 1.2 core-schema typing of plain scalars.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

namespace nixjail::runner::workflow {

// Plain scalars become null/bool/number where the core schema says so; quoted ones stay strings.
nlohmann::json yamlToJson(const YAML::Node& node);

// A scalar as the string a workflow author meant (`env: {A: 1}` gives "1", `true` gives "true").
std::string scalarText(const YAML::Node& node);

}  // namespace nixjail::runner::workflow
