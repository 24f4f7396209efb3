// exec --keep / --keep-failed: the run goes on in a child process that can stay behind as the
// keeper of the jobs it keeps, while the process the user started waits for the run's result and
// exits with it, so the shell prompt comes back with the jails still there.
#pragma once

#include "runner/base/unique_fd.h"

namespace nixjail::runner::cli {

class ForegroundHandoff {
  public:
    // Forks; call it before any thread exists. The user's process never returns from here: it
    // forwards SIGINT, SIGTERM and SIGHUP to the child and exits with the code the child passes
    // to finish() (or the child's own status if it dies first). The child returns, in a session
    // of its own (a later Ctrl-C in the terminal is not for it). Throws SysError if fork fails.
    ForegroundHandoff();
    ForegroundHandoff(const ForegroundHandoff&) = delete;
    ForegroundHandoff& operator=(const ForegroundHandoff&) = delete;
    // Without finish(): the user's process exits with the child's status once it exits.
    ~ForegroundHandoff() = default;

    // The run's exit code: the user's process exits with it now. Once.
    void finish(int exit_code);

  private:
    base::UniqueFd to_parent_;
};

}  // namespace nixjail::runner::cli
