// The jail's pid 1: forwards signals to the step's main process, reaps every orphan, and when the
// main process exits reports its status and exits, which makes the kernel kill the whole pid
// namespace: nothing the step started outlives it.
#pragma once

#include <sys/types.h>

namespace nixjail::executor::ns {

// Child side, async-signal-safe. Expects every signal blocked (so none is lost before the loop).
[[noreturn]] void runJailInit(pid_t main_pid, int report_fd);

// Child side: write one report, retrying on EINTR.
void writeChildReport(int report_fd, const struct ChildReport& report);

}  // namespace nixjail::executor::ns
