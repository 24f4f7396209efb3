// JavaScript actions (`runs.using: node12|node16|node20|node24`): the pieces that do not need a running
// job (input variable names, finding `node`, the queued post step). NodeActionStep runs them in
// node_action_step.cc.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "runner/actions/action_manifest.h"

namespace nixjail::runner::actions {

// Where an action's files are: as the runner sees them and as steps see them.
struct ActionLocation {
    std::filesystem::path host;
    std::filesystem::path jail;
    std::string repository;  // owner/repo for remote actions, empty for local ones
    // What the runner may read of the action on the host: the workspace for local actions, the
    // fetched repository for remote ones. No file is read through a link that leaves it.
    std::filesystem::path root;
};

// A JavaScript action's post step, queued when its main step runs and run at the job's end.
struct PostStep {
    std::string name;  // "Post <step name>"
    std::string id;    // the main step's id
    std::string uses;
    std::string post_if;           // the manifest's post-if, default always()
    std::filesystem::path script;  // the post script as steps see it
    ActionLocation where;
    std::vector<std::pair<std::string, std::string>> env;    // the main step's env with INPUT_*
    std::vector<std::pair<std::string, std::string>> state;  // GITHUB_STATE of pre and main
};

// node12, node16, node20, node24: the runtimes GitHub's runner accepts.
bool isNodeRuntime(const std::string& using_);
// node12 and node16: retired on GitHub, whose runner forces them onto node20 with a warning. Here
// they run on the node the step finds (the job's node package or the host's), the newest it has.
bool isRetiredNodeRuntime(const std::string& using_);

// INPUT_<NAME>: upper-cased, spaces become underscores (as @actions/core's getInput reads it).
std::string inputVariable(const std::string& input);

// STATE_<name>: the name as given, as @actions/core's getState reads it.
std::string stateVariable(const std::string& name);

// The first executable `name` in the colon-separated `path`, each directory looked up under
// `root` (the job's root for jailed steps, "/" otherwise). Returns the path as steps see it, or
// an empty path when there is none.
std::filesystem::path findOnPath(const std::string& path, const std::filesystem::path& root,
                                 const std::string& name);

// The script of a pre/main/post entry, relative to the action's directory (`..` allowed, as on
// GitHub), refusing paths that leave the action's root (its repository, or the workspace).
std::filesystem::path actionScript(const ActionLocation& where, const std::string& entry,
                                   const std::string& what);

}  // namespace nixjail::runner::actions
