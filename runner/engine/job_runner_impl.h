// JobRunner: one running job instance (one matrix combination), as the ordered list of its phases:
// directories (JobSandbox), environment and credentials, root, network, jail, then the steps (by
// the step parts, step_parts.h), outputs and the release of what the job held. Private to
// runner/engine; callers use job_runner.h.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "runner/engine/job_context.h"
#include "runner/engine/jail_self_check.h"
#include "runner/engine/kept_job.h"
#include "runner/engine/step_parts.h"

namespace nixjail::runner::engine {

// The job's observer, which a kept job's shell points elsewhere for the steps it re-runs.
class ObserverSwitch : public JobObserver {
  public:
    explicit ObserverSwitch(JobObserver* target) : target_(target) {}
    void point(JobObserver* target) { target_ = target; }
    void stepStarted(const StepRecord& step) override {
        if (target_) target_->stepStarted(step);
    }
    void line(const LogLine& line) override {
        if (target_) target_->line(line);
    }
    void stepFinished(const StepRecord& step) override {
        if (target_) target_->stepFinished(step);
    }
    void phaseFinished(const PhaseRecord& phase) override {
        if (target_) target_->phaseFinished(phase);
    }

  private:
    JobObserver* target_;
};

// Holds its own copies of the instance and options: a kept job (KeptJob) outlives its caller's.
class JobRunner : public KeptJob {
  public:
    JobRunner(const JobInstance& instance, const RunOptions& opts, JobObserver& observer,
           SecretMasker& masker, std::stop_token cancel);
    JobOutcome run();
    // After run(): whether the job's jail stayed (RunOptions::keep) for a keeper to adopt.
    bool kept() const { return kept_; }
    KeptJobInfo info() const override;
    ShellResult shell(const ShellRequest& request) override;

  private:
    void prepareEnvironment();
    // The forge tokens become proxy credentials and the job sees their dummies (a proxied plan).
    void prepareCredentials();
    std::vector<std::string> forgeHosts() const;  // of github.server_url and api_url
    // Starts making the job's network (its namespace's proxy, the CA file) on a thread of its
    // own, once the credentials it injects are known (prepareCredentials); prepareJail waits for
    // it. A proxied plan only.
    void startNetwork();
    void prepareJail();
    // What the job's network namespace (or loopback proxy) and its proxy are made with.
    network::NetworkSettings networkSettings() const;
    // Says what the network allows (after it is made).
    void logNetwork(const std::vector<std::string>& forge);
    // The jail's self-check (JobPlan::check_jail): in a jail run of its own, it throws
    // base::Error, so no step runs, when the jail broke a promise; as the first step's prelude
    // (check_jail_in_first_step), that step throws JailRefused (first_step_jail_check.h).
    void checkJailPromises();
    // Logs the verdict and keeps its checks for the job's outcome.
    void logJailCheck(const JailCheckReport& report);
    std::vector<std::string> jobPackages() const;  // declared: opts.packages, NIXJAIL_PACKAGES
    // job_root_request.cc: the declared packages, the runs-on labels, the packages actions need.
    RootRequest rootRequest();
    // Added to "python3: not in this job's root; ..." (missing_program.h).
    std::string missingProgramNote() const;
    void finishOutputs(JobOutcome& outcome);
    void phaseDone(JobOutcome& outcome, PhaseRecord record);
    void reportRootPhases(JobOutcome& outcome);
    void reportProxyPhase(JobOutcome& outcome);
    bool keepsJail() const;  // RunOptions::keep says so for how the job ended, and there is a jail
    // `container:`: its image's packages (container_packages_) and env (into the job's env, under
    // the job's own); warnings for what cannot apply. Throws base::Error for an unmapped image.
    void prepareContainer();
    // `services:` with their expressions evaluated; an entry whose image is empty is left out.
    std::vector<ServiceRequest> serviceRequests();
    void prepareServices();
    void reportServicesPhase(JobOutcome& outcome);
    // ShellRequest::from_step: the job's steps from `from` up to the one that failed, again.
    void rerunSteps(std::size_t from);

    // How this job is built on this executor (paths, root, network, credentials, owner), decided
    // once from the executor's traits and the job's policy.
    const JobInstance instance_;
    const RunOptions opts_;
    const job::JobPlan plan_;
    std::stop_source stop_;  // fired by the caller's cancel or the job timeout
    std::stop_callback<std::function<void()>> forward_cancel_;
    ObserverSwitch observer_;
    JobContext job_;
    StepParts parts_;
    StepScope top_;  // the job's own steps
    std::chrono::milliseconds job_timeout_{0};  // the job's limit, from its start
    bool needs_node_ = false;  // add opts.node_package to the root
    std::vector<std::string> container_packages_;  // of the job's `container:` image
    std::optional<std::chrono::milliseconds> services_start_;  // time to all services ready
    bool kept_ = false;
    std::vector<executor::PromiseCheck> jail_checks_;  // the self-check's, once it ran
    std::future<base::UniqueFd> netns_ahead_;  // the job's network namespace, made ahead
    // The job's network in the making (startNetwork); run() waits for it before the sandbox may
    // go, whatever happened meanwhile.
    std::future<void> network_;
    std::vector<std::string> network_forge_;  // the forge hosts it allows
    std::mutex shell_mu_;  // one shell request at a time
};

}  // namespace nixjail::runner::engine
