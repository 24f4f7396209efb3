// NamespaceJail: the per-job resources of the namespace executor, and the parent side of a step.
#pragma once

#include <memory>

#include "executor/namespace/cgroup.h"
#include "executor/namespace/setup_phase.h"
#include "executor/namespace/spawn.h"
#include "runner/base/temp_dir.h"

namespace spdlog {
class logger;
}

namespace nixjail::executor::ns {

class NamespaceJail : public Jail {
  public:
    // Members in acquisition order: the destructor removes the cgroup, then lets go of the
    // executor's staging dir (removed with its last user).
    NamespaceJail(JailSpec spec, std::shared_ptr<const base::TempDir> staging, JailPlan plan, JobCgroup cgroup,
                  std::shared_ptr<spdlog::logger> log, std::chrono::milliseconds cancel_grace);
    StepResult run(const StepInvocation& step) override;

  private:
    StepResult runPlanned(const StepInvocation& step, const StepPlan& plan, StepCgroup& cgroup);
    // The runner's ends of a started jail, as the prelude's wait uses them.
    struct InitChannels {
        int sync;
        int output;
        int report;
    };
    // A step's prelude (StepInvocation::prelude), from the init's last release to its verdict:
    // true when the step may start (the init has been told); false when it must not, the jail
    // killed and reaped and `result` saying why.
    bool awaitPrelude(const StepInvocation& step, const SpawnedJail& child, const StepCgroup& cgroup,
                      InitChannels channels, const AppliedLimits& applied, StepResult& result);
    std::string describeReport(const ChildReport& report) const;

    JailSpec spec_;
    std::shared_ptr<const base::TempDir> staging_;
    JailPlan plan_;
    JobCgroup cgroup_;
    std::shared_ptr<spdlog::logger> log_;
    std::chrono::milliseconds cancel_grace_;
    int steps_ = 0;
};

}  // namespace nixjail::executor::ns
