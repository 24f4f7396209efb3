// SystemdJail: the per-job state of the systemd backend, and the runner's side of each step's
// `systemd-run`: stream its output, stop the unit on timeout or cancel, read systemd's verdict.
#pragma once

#include <memory>
#include <string>

#include "executor/executor.h"
#include "executor/systemd/systemd_executor.h"
#include "runner/base/temp_dir.h"

namespace nixjail::executor::sysd {

class SystemdJail : public Jail {
  public:
    // `state`: a root-only directory for the steps' result files; `netns_path`: the job's netns
    // as a path systemd can open, empty for a new empty namespace per step.
    SystemdJail(JailSpec spec, SystemdOptions options, base::TempDir state, std::string netns_path);
    StepResult run(const StepInvocation& step) override;

  private:
    StepResult runUnit(const StepInvocation& step, const std::vector<std::string>& argv,
                       const std::string& unit, const std::filesystem::path& result_file,
                       std::chrono::milliseconds limit);
    // Runs `systemctl <args>`; a failure is logged and ignored (the unit may already be gone).
    void systemctl(const std::vector<std::string>& args) const;

    JailSpec spec_;
    SystemdOptions options_;
    base::TempDir state_;
    std::string netns_path_;
    int steps_ = 0;
};

}  // namespace nixjail::executor::sysd
