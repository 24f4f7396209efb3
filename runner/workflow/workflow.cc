// Small queries on the workflow model.
#include "runner/workflow/workflow.h"

namespace nixjail::runner::workflow {

const Job* Workflow::findJob(const std::string& id) const {
    for (const auto& j : jobs) {
        if (j.id == id) return &j;
    }
    return nullptr;
}

bool Workflow::triggeredBy(const std::string& event) const {
    return on.is_object() && on.contains(event);
}

}  // namespace nixjail::runner::workflow
