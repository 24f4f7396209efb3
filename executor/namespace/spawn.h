// Starting a jail: the plan the child follows (computed by the parent, so the child never
// allocates) and the clone that runs it.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "executor/executor.h"
#include "executor/namespace/mounts.h"
#include "executor/namespace/process_strings.h"
#include "executor/namespace/seccomp_filter.h"
#include "executor/namespace/userns.h"
#include "runner/base/unique_fd.h"

namespace nixjail::executor::ns {

// Fixed for the job; built once by prepare().
struct JailPlan {
    MountPlan mounts;
    IdMapPlan ids;
    std::string hostname;
    std::shared_ptr<const SeccompProgram> seccomp;  // shared by the executor's jails
    int cap_last_cap = 40;
    bool new_netns = true;  // false: the clone inherits the job's netns from the calling thread
    rlim_t nofile = 1024;
    // Where the runner's argv and environment strings are: the init blanks them in its copy
    // before anything of the job runs.
    ProcessStrings runner_strings;
};

// Per step; pointers in argvp/envp point into argv/env, so build it in place with planStep().
struct StepPlan {
    std::vector<std::string> argv;
    std::vector<std::string> env;
    std::vector<char*> argvp;
    std::vector<char*> envp;
    std::vector<std::string> exec_candidates;  // argv[0] resolved against the step's PATH
    std::string cwd;
    // StepInvocation::files_mount's jail path ("": none); the init attaches ChildFds::files_mount
    // there once its mounts are in place, before the prelude and the step.
    std::string files_target;
    // StepInvocation::prelude, planned the same way; run to its end before this step.
    std::unique_ptr<StepPlan> prelude;
    StepPlan() = default;
    StepPlan(const StepPlan&) = delete;
    StepPlan& operator=(const StepPlan&) = delete;
};

// Pure; throws base::Error for an empty argv or a relative cwd (of the step or its prelude).
void planStep(const StepInvocation& step, StepPlan& out);

// The most cgroup hierarchies a jail joins (v1: memory, pids, cpu, cpuacct).
inline constexpr int kMaxCgroupJoins = 4;

struct ChildFds {
    int report = -1;   // write end of the close-on-exec report pipe
    // The init's end of a socket pair: the runner sends one byte once the id maps are written and
    // one once the init is in its cgroup; the init sends one when it has joined them itself. With
    // a prelude, the init then sends its wait status (an int) when it has ended, and the runner
    // one more byte if the step may start.
    int sync = -1;
    int output = -1;   // write end of the step's merged stdout/stderr
    int devnull = -1;  // the step's stdin
    // StepInvocation::stdio: the step's own stdin, stdout and stderr (-1: devnull and output).
    int in = -1, out = -1, err = -1;
    bool terminal = false;  // `in` becomes the step's controlling terminal
    // v1: each step cgroup's `tasks` file, opened by the runner. The init writes "0" to each as
    // its first act: a thread that moves itself skips the kernel's global threadgroup lock, whose
    // write side waits for an RCU grace period (10-20 ms) on every move the runner makes.
    int cgroup_tasks[kMaxCgroupJoins] = {-1, -1, -1, -1};
    int cgroup_task_count = 0;
    // StepInvocation::files_mount's detached mount (-1: none), attached at StepPlan::files_target.
    int files_mount = -1;
};

struct SpawnedJail {
    pid_t pid = -1;
    base::UniqueFd pidfd;
    bool in_cgroup = false;  // started in the cgroup given to cloneJail; else the caller moves it
};

// clone(2) with `flags` (namespaces; CLONE_PIDFD and SIGCHLD are added) and a pidfd. With a
// cgroup (a v2 directory fd, -1: none) the child starts in it (clone3 with CLONE_INTO_CGROUP)
// and *in_cgroup is true; a kernel without that (before 5.7) clones it where the caller is.
// Returns the pid, 0 in the child, -1 with errno.
long cloneWithPidfd(unsigned long flags, int* pidfd, int cgroup_fd, bool* in_cgroup);

// Clones the jail's init into new namespaces; throws SysError if the clone itself fails. With a
// cgroup (a v2 directory fd, -1: none) the init starts in it (clone3 with CLONE_INTO_CGROUP);
// on a kernel without that (before 5.7) it starts where the runner is and in_cgroup is false.
SpawnedJail cloneJail(const JailPlan& jail, const StepPlan& step, const ChildFds& fds, int cgroup_fd = -1);

}  // namespace nixjail::executor::ns
