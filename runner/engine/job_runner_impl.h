// JobRunner: one running job instance (one matrix combination), as the ordered list of its phases:
// directories (JobSandbox), environment and credentials, root, network, jail, then the steps (by
// the step parts, step_parts.h), outputs and the release of what the job held. Private to
// runner/engine; callers use job_runner.h.
#pragma once

#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "runner/engine/job_context.h"
#include "runner/engine/step_parts.h"

namespace nixjail::runner::engine {

class JobRunner {
  public:
    JobRunner(const JobInstance& instance, const RunOptions& opts, JobObserver& observer,
           SecretMasker& masker, std::stop_token cancel);
    JobOutcome run();

  private:
    void prepareEnvironment();
    // The forge tokens become proxy credentials and the job sees their dummies (a proxied plan).
    void prepareCredentials();
    std::vector<std::string> forgeHosts() const;  // of github.server_url and api_url
    void prepareJail();
    // The job's network namespace (or loopback proxy) and its proxy.
    void prepareNetwork();
    // The jail's self-check (JobPlan::check_jail): throws base::Error, so no step runs, when the
    // jail broke a promise.
    void checkJailPromises(JobOutcome& outcome);
    std::vector<std::string> jobPackages() const;  // declared: opts.packages, NIXJAIL_PACKAGES
    // job_root_request.cc: the declared packages, the runs-on labels, the packages actions need.
    RootRequest rootRequest();
    // Added to "python3: not in this job's root; ..." (missing_program.h).
    std::string missingProgramNote() const;
    void finishOutputs(JobOutcome& outcome);
    void phaseDone(JobOutcome& outcome, PhaseRecord record);
    void reportRootPhases(JobOutcome& outcome);
    void reportProxyPhase(JobOutcome& outcome);

    // How this job is built on this executor (paths, root, network, credentials, owner), decided
    // once from the executor's traits and the job's policy.
    const job::JobPlan plan_;
    std::stop_source stop_;  // fired by the caller's cancel or the job timeout
    std::stop_callback<std::function<void()>> forward_cancel_;
    JobContext job_;
    StepParts parts_;
    bool needs_node_ = false;  // add opts.node_package to the root
};

}  // namespace nixjail::runner::engine
