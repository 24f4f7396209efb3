// Running a workflow: jobs in dependency order (independent ones in parallel), matrices expanded,
// fail-fast and max-parallel honoured, `needs` results and outputs passed on.
#pragma once

#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "runner/engine/job_runner.h"

namespace nixjail::runner::engine {

struct JobReport {
    std::string job_id;
    std::string name;  // display name, with the matrix combination
    nlohmann::json matrix = nlohmann::json::object();
    JobOutcome outcome;
};

struct WorkflowReport {
    std::vector<JobReport> jobs;  // in completion order
    Result result = Result::kSuccess;
    std::chrono::milliseconds duration{0};
};

// Told about each job instance; called from several threads at once.
class RunReporter {
public:
    virtual ~RunReporter() = default;
    // The observer must stay valid until jobFinished for the same instance returns.
    virtual std::unique_ptr<JobObserver> jobStarted(const JobInstance& instance) = 0;
    virtual void jobFinished(const JobInstance& instance, const JobOutcome& outcome) = 0;
};

// `selected`: job ids to run (with their dependencies); empty = all.
WorkflowReport runWorkflow(const workflow::Workflow& wf, const std::vector<std::string>& selected,
                           const RunOptions& opts, RunReporter& reporter, SecretMasker& masker,
                           std::stop_token cancel);

// The job instances a job expands to, for --list and --dry-run (needs outputs unknown: `{}`).
std::vector<JobInstance> planInstances(const workflow::Workflow& wf, const workflow::Job& job,
                                       const RunOptions& opts, const nlohmann::json& needs,
                                       std::string* error);

}  // namespace nixjail::runner::engine
