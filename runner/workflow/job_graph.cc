// Topological ordering of jobs with cycle reporting.
#include "runner/workflow/job_graph.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace nixjail::runner::workflow {

base::Result<std::vector<std::string>, Diagnostics> orderJobs(const Workflow& wf) {
    Diagnostics diags;
    std::vector<std::string> ids;
    for (const auto& j : wf.jobs) ids.push_back(j.id);
    for (const auto& j : wf.jobs) {
        for (const auto& n : j.needs) {
            if (wf.findJob(n)) continue;
            std::string msg = "job '" + j.id + "' needs unknown job '" + n + "'";
            std::string hint = closestMatch(n, ids);
            if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
            diags.push_back({wf.file.string(), j.pos.line, j.pos.col, msg, {}});
        }
    }
    if (!diags.empty()) return base::unexpected(diags);

    enum class Mark { kNone, kVisiting, kDone };
    std::map<std::string, Mark> mark;
    std::vector<std::string> order;
    std::vector<std::string> stack;
    std::function<bool(const Job&)> visit = [&](const Job& j) -> bool {
        auto& m = mark[j.id];
        if (m == Mark::kDone) return true;
        if (m == Mark::kVisiting) {
            auto from = std::find(stack.begin(), stack.end(), j.id);
            std::string cycle;
            for (auto it = from; it != stack.end(); ++it) cycle += *it + " -> ";
            cycle += j.id;
            diags.push_back({wf.file.string(), j.pos.line, j.pos.col,
                             "jobs form a cycle through 'needs': " + cycle, {}});
            return false;
        }
        m = Mark::kVisiting;
        stack.push_back(j.id);
        for (const auto& n : j.needs) {
            if (!visit(*wf.findJob(n))) return false;
        }
        stack.pop_back();
        mark[j.id] = Mark::kDone;
        order.push_back(j.id);
        return true;
    };
    for (const auto& j : wf.jobs) {
        if (!visit(j)) return base::unexpected(diags);
    }
    return order;
}

std::vector<std::string> withDependencies(const Workflow& wf, const std::vector<std::string>& selected) {
    std::set<std::string> want;
    std::function<void(const std::string&)> add = [&](const std::string& id) {
        if (!want.insert(id).second) return;
        if (const Job* j = wf.findJob(id)) {
            for (const auto& n : j->needs) add(n);
        }
    };
    for (const auto& s : selected) add(s);
    std::vector<std::string> out;
    for (const auto& j : wf.jobs) {
        if (want.count(j.id)) out.push_back(j.id);
    }
    return out;
}

}  // namespace nixjail::runner::workflow
