// The job graph: `needs` resolved into an order of execution, with unknown jobs and cycles reported.
#pragma once

#include <string>
#include <vector>

#include "runner/base/result.h"
#include "runner/workflow/diagnostic.h"
#include "runner/workflow/workflow.h"

namespace nixjail::runner::workflow {

// Jobs in an order where every job comes after all it needs (stable: file order among equals).
base::Result<std::vector<std::string>, Diagnostics> orderJobs(const Workflow& wf);

// The selected jobs plus everything they need, transitively (for `exec -j`).
std::vector<std::string> withDependencies(const Workflow& wf, const std::vector<std::string>& selected);

}  // namespace nixjail::runner::workflow
