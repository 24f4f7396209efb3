// Whole-workflow checks run after loading: the job graph, step ids and shells.
#include <set>

#include "runner/workflow/job_graph.h"
#include "runner/workflow/shell_command.h"
#include "runner/workflow/workflow_loader.h"

namespace nixjail::runner::workflow {

namespace {
void checkShell(const std::string& shell, const Workflow& wf, SourcePos pos, Diagnostics& diags) {
    if (shell.empty() || shell.find("${{") != std::string::npos) return;
    auto err = shellTemplateError(shell);
    if (!err.empty()) diags.push_back({wf.file.string(), pos.line, pos.col, err, {}});
}
}  // namespace

Diagnostics validateWorkflow(const Workflow& wf) {
    Diagnostics diags;
    auto order = orderJobs(wf);
    if (!order) diags = order.error();
    if (wf.defaults.shell) checkShell(*wf.defaults.shell, wf, {}, diags);
    for (const auto& job : wf.jobs) {
        if (job.defaults.shell) checkShell(*job.defaults.shell, wf, job.pos, diags);
        std::set<std::string> ids;
        for (const auto& step : job.steps) {
            if (!step.id.empty() && !ids.insert(step.id).second) {
                diags.push_back({wf.file.string(), step.pos.line, step.pos.col,
                                 "step id '" + step.id + "' is used twice in job '" + job.id + "'", {}});
            }
            checkShell(step.shell, wf, step.pos, diags);
        }
    }
    return diags;
}

}  // namespace nixjail::runner::workflow
