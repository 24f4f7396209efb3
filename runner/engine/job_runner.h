// Running one job instance (a job, or one combination of its matrix) to a JobOutcome.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <stop_token>
#include <string>
#include <vector>

#include "executor/jail_check/jail_promises.h"
#include "proxy/proxy.h"
#include "runner/engine/actions_names.h"
#include "runner/actions/job_observer.h"
#include "runner/engine/run_options.h"
#include "runner/actions/secret_masker.h"
#include "runner/workflow/workflow.h"

namespace nixjail::runner::engine {

struct JobInstance {
    const workflow::Workflow* workflow = nullptr;
    const workflow::Job* job = nullptr;
    std::string display_name;                         // "build (linux, 1)"
    nlohmann::json matrix = nlohmann::json::object();  // this instance's combination
    nlohmann::json strategy = nlohmann::json::object();
    nlohmann::json needs = nlohmann::json::object();   // needs context
    nlohmann::json inputs = nlohmann::json::object();  // inputs context
};

struct JobOutcome {
    Result result = Result::kSkipped;
    std::map<std::string, std::string> outputs;
    std::vector<StepRecord> steps;
    std::chrono::milliseconds duration{0};
    std::string error;    // why the job failed outside any step
    std::string summary;  // GITHUB_STEP_SUMMARY of all steps
    std::vector<PhaseRecord> phases;  // as reported to JobObserver::phaseFinished
    // Every decision of the job's proxy, oldest first (isolating executors; see
    // RunOptions::network), also shown in the job log. Never holds a credential's value.
    std::vector<proxy::AuditRecord> network_audit;
    // The jail's self-check before the first step (JobPlan::check_jail); empty when not run.
    std::vector<executor::PromiseCheck> jail_checks;
};

// Runs the job's steps in a fresh workspace through opts.executor. Never throws for problems of
// the job itself (they make a failed outcome); `cancel` stops it (result cancelled).
JobOutcome runJob(const JobInstance& instance, const RunOptions& opts, JobObserver& observer,
                  SecretMasker& masker, std::stop_token cancel);

}  // namespace nixjail::runner::engine
