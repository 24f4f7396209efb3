// What GitHub derives from the triggering event for the github and inputs contexts.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "runner/workflow/workflow.h"

namespace nixjail::runner::engine {

// github.head_ref and github.base_ref of a pull_request or pull_request_target event: the
// payload's pull_request.head.ref and pull_request.base.ref, where the github context has none.
void fillPullRequestRefs(nlohmann::json& github, const std::string& event_name,
                         const nlohmann::json& event);

// The inputs context: each value typed as the workflow declares it under on.<event>.inputs
// (on.workflow_call.inputs as well): a boolean input is true or false, a number input a number,
// anything else (string, choice, environment, undeclared) the text. A value that is not of its
// declared type stays text. github.event.inputs keeps the texts, as on GitHub.
nlohmann::json typedInputs(const workflow::Workflow& wf, const std::string& event_name,
                           const std::map<std::string, std::string>& inputs);

// An input's value as the text the inputs map holds: a string as it is, null as "", anything
// else (a YAML boolean or number, say) as JSON.
std::string inputText(const nlohmann::json& value);

}  // namespace nixjail::runner::engine
