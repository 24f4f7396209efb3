// The workflow model: what a workflow file says, with expressions still unevaluated.
// Values that may hold `${{ }}` stay raw (strings or JSON) and are evaluated when the job runs.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nixjail::runner::workflow {

using Json = nlohmann::json;
using EnvList = std::vector<std::pair<std::string, std::string>>;  // in file order

struct SourcePos {
    int line = 0;  // 1-based
    int col = 0;
};

struct RunDefaults {
    std::optional<std::string> shell;
    std::optional<std::string> working_directory;
};

struct Step {
    std::string id;  // empty when the file gives none
    std::string name;
    std::string if_cond;
    std::string run;
    std::string uses;
    std::string shell;
    std::string working_directory;
    EnvList env;
    std::map<std::string, std::string> with;
    Json continue_on_error = false;  // bool or expression string
    Json timeout_minutes;            // null, number or expression string
    SourcePos pos;
};

struct Strategy {
    Json matrix;  // object, or an expression string
    std::vector<std::string> matrix_keys;  // keys in file order (JSON objects sort them)
    Json fail_fast = true;
    Json max_parallel;  // null = unbounded
};

struct Job {
    std::string id;
    std::string name;  // may contain expressions
    std::vector<std::string> needs;
    std::string if_cond;
    Json runs_on;
    EnvList env;
    RunDefaults defaults;
    std::map<std::string, std::string> outputs;
    Json timeout_minutes;  // null = 360
    Json continue_on_error = false;
    std::optional<Strategy> strategy;
    std::vector<Step> steps;
    std::string uses;        // reusable workflow call: ./.github/workflows/x.yml or owner/repo/...@ref
    Json with_inputs;        // the call's `with:` (null when absent)
    Json secrets;            // the call's `secrets:`: "inherit", a mapping, or null
    // `container:` (an image name or a mapping: image, env, options, ...) and `services:` (service
    // id -> the same, in file order), as written: expressions are evaluated when the job starts.
    Json container;
    std::vector<std::pair<std::string, Json>> services;
    // `concurrency:`: null, a group (string, may be an expression) or {group, cancel-in-progress}.
    Json concurrency;
    SourcePos pos;
};

struct Workflow {
    std::filesystem::path file;
    std::string name;
    Json on;  // normalised to an object: event name -> config (null when none)
    EnvList env;
    RunDefaults defaults;
    std::vector<Job> jobs;  // in file order

    const Job* findJob(const std::string& id) const;
    bool triggeredBy(const std::string& event) const;
    // on.<event>.<key> (inputs, secrets, outputs) when it is a mapping, else an empty one.
    Json triggerSection(const std::string& event, const std::string& key) const;
};

}  // namespace nixjail::runner::workflow
