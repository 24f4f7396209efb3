// The JSON summary of a run (`exec --json-summary FILE`): workflows, job instances, steps, outputs.
#pragma once

#include <nlohmann/json.hpp>

#include "runner/engine/workflow_runner.h"

namespace nixjail::runner::engine {

// One workflow's report as JSON; every text has already passed the masker.
nlohmann::json workflowSummary(const std::string& file, const std::string& name, const WorkflowReport& report);

}  // namespace nixjail::runner::engine
