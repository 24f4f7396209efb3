// Loading a workflow file into the model, reporting every problem at once with file:line:col.
#pragma once

#include <filesystem>
#include <string>

#include "runner/base/result.h"
#include "runner/workflow/diagnostic.h"
#include "runner/workflow/workflow.h"

namespace nixjail::runner::workflow {

base::Result<Workflow, Diagnostics> loadWorkflowFile(const std::filesystem::path& file);
base::Result<Workflow, Diagnostics> parseWorkflow(const std::string& text, const std::string& file);

// Checks that need the whole workflow: unknown jobs in `needs`, cycles, step ids, shells.
Diagnostics validateWorkflow(const Workflow& wf);

}  // namespace nixjail::runner::workflow
