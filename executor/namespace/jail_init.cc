// pid 1 inside the jail.
#include "executor/namespace/jail_init.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "executor/namespace/setup_phase.h"

namespace nixjail::executor::ns {

void writeChildReport(int report_fd, const ChildReport& report) {
    while (::write(report_fd, &report, sizeof report) < 0 && errno == EINTR) {
    }
}

void runJailInit(pid_t main_pid, int report_fd) {
    sigset_t all;
    sigfillset(&all);
    for (;;) {
        siginfo_t info;
        int sig = ::sigwaitinfo(&all, &info);
        if (sig < 0) continue;
        if (sig != SIGCHLD) {
            // Signals from the runner (SIGTERM, SIGINT, ...) are meant for the step.
            ::kill(main_pid, sig);
            continue;
        }
        int status = 0;
        pid_t pid;
        while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
            if (pid != main_pid) continue;  // an orphan re-parented to us
            writeChildReport(report_fd, {.kind = ChildReport::Kind::kMainExited, .detail = status});
            ::_exit(0);
        }
    }
}

}  // namespace nixjail::executor::ns
