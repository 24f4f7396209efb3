// Turns what the unit's ExecStopPost=+ recorder wrote (systemd's own verdict) into a StepResult.
#pragma once

#include <string>

#include "executor/executor.h"

namespace nixjail::executor::sysd {

// `text`: "SERVICE_RESULT EXIT_CODE EXIT_STATUS\n" then, on the unified cgroup hierarchy, the
// unit cgroup's memory.peak and cpu.stat. Fills exit_code/term_signal/oom_killed/timed_out,
// peak_memory_bytes and cpu_time; setup_error when systemd failed to set the step up (statuses
// 200..243 are systemd's EXIT_* setup codes, e.g. 203 = EXEC, 226 = NAMESPACE) or the text is
// not a recorder's output.
void applyUnitResult(const std::string& text, StepResult& result);

// systemd's name of a setup exit status (217 -> "USER"), or nullptr outside 200..243.
const char* setupStatusName(int status);

}  // namespace nixjail::executor::sysd
