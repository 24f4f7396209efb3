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

Json Workflow::triggerSection(const std::string& event, const std::string& key) const {
    if (!triggeredBy(event) || !on[event].is_object()) return Json::object();
    const auto it = on[event].find(key);
    return it != on[event].end() && it->is_object() ? *it : Json::object();
}

}  // namespace nixjail::runner::workflow
