// Cgroups for jails, v1 (one hierarchy per controller) and v2: a JobCgroup per Jail, a StepCgroup
// per step carrying the limits, so each step's counters (peak memory, OOM kills, CPU) are its own.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "executor/executor.h"
#include "runner/base/unique_fd.h"

namespace nixjail::executor::ns {

inline constexpr const char* kCgroupPrefix = "nixjail-";

struct CgroupLayout {
    bool v2 = false;
    // v2: one entry, the unified mount. v1: memory, pids, cpu, cpuacct hierarchies (deduplicated).
    struct Hierarchy {
        std::string controllers;       // "memory", "pids", "cpu,cpuacct", "" for v2
        std::filesystem::path parent;  // where job cgroups are created (the runner's own cgroup)
    };
    std::vector<Hierarchy> hierarchies;

    // Reads /sys/fs/cgroup and /proc/self/cgroup; throws base::Error when a needed controller is
    // missing.
    static CgroupLayout detect();
};

struct StepUsage {
    std::chrono::milliseconds cpu{0};
    bool cpu_known = false;
    std::uint64_t peak_memory_bytes = 0;
    bool oom_killed = false;
};

class StepCgroup {
  public:
    StepCgroup() = default;
    StepCgroup(StepCgroup&& o) noexcept;
    StepCgroup& operator=(StepCgroup&& o) noexcept;
    StepCgroup(const StepCgroup&) = delete;
    StepCgroup& operator=(const StepCgroup&) = delete;
    ~StepCgroup();

    void addProcess(pid_t pid) const;
    // v2: the step's cgroup directory, for clone3(CLONE_INTO_CGROUP), which starts the jail in
    // it instead of moving it there afterwards: a move (a write to cgroup.procs) waits for an RCU
    // grace period, about 8 ms of every step here. -1 on v1, where each controller has its own.
    int directoryFd() const { return dir_fd_.get(); }
    // v1: each hierarchy's `tasks` file, opened for writing, for a process that moves itself
    // (spawn.h, ChildFds::cgroup_tasks). Empty on v2. Throws base::SysError naming the file.
    std::vector<base::UniqueFd> openTasksFiles() const;
    // v2: cgroup.kill. v1 has no tree kill; the pid namespace's init is killed instead.
    void killAll() const;
    StepUsage usage() const;
    // Removes the directories; throws if one cannot be removed.
    void remove();

  private:
    friend class JobCgroup;
    bool v2_ = false;
    std::vector<std::filesystem::path> dirs_;  // one per hierarchy
    base::UniqueFd dir_fd_;                    // v2: dirs_[0], O_PATH
};

class JobCgroup {
  public:
    // Creates `<parent>/nixjail-<job>-<unique>` in every hierarchy of the layout.
    JobCgroup(const CgroupLayout& layout, const std::string& job_id);
    JobCgroup(JobCgroup&& o) noexcept : v2_(o.v2_), dirs_(std::exchange(o.dirs_, {})) {}
    JobCgroup& operator=(JobCgroup&&) = delete;
    JobCgroup(const JobCgroup&) = delete;
    JobCgroup& operator=(const JobCgroup&) = delete;
    ~JobCgroup();

    StepCgroup createStep(const Limits& limits, int index) const;
    const std::vector<std::filesystem::path>& dirs() const { return dirs_; }

  private:
    bool v2_ = false;
    std::vector<std::filesystem::path> dirs_;
};

// The memory and process limits of the cgroups `pid` is in, as the host sees them (a v1 host's
// memory and pids hierarchies, or the unified one). Throws base::Error when /proc/PID/cgroup
// cannot be read.
AppliedLimits limitsOfProcess(pid_t pid);

// Kills what is left in, and removes, every cgroup named with kCgroupPrefix under the layout's
// parents (after a crash). Returns how many job cgroups were removed; logs the ones it cannot.
int sweepCgroups(const CgroupLayout& layout, const std::string& prefix = kCgroupPrefix);

// A cgroup-safe name for the job id: [A-Za-z0-9_.-], at most 40 characters.
std::string cgroupSafeName(const std::string& job_id);

// "p<pid>" of this process. Job cgroups are named "<prefix><job>-p<pid>-<6 random chars>" and an
// executor's staging directory "<prefix>p<pid>-<6 random chars>", so that a sweep (a runner
// starting up) spares those of other runners that are still alive and removes only what dead
// ones left.
std::string ownerTag();
// True when `name` ends in "-p<pid>-<6 chars>" and that process still exists.
bool ownedByLiveProcess(const std::string& name);

// v2: where job cgroups go given the runner's own cgroup: beside it when systemd runs the
// runner in a "supervisor" leaf of its delegated cgroup (DelegateSubgroup=), else inside it.
std::filesystem::path v2JobParent(const std::filesystem::path& own);

}  // namespace nixjail::executor::ns
