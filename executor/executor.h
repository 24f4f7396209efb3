// The executor interface: prepare a jail for a job once, then run each step in it.
// Backends: host/ (debugging only, no isolation), namespace/ (built-in jail), systemd/, sandbox_exec/.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <sys/types.h>
#include <string>
#include <string_view>
#include <vector>

#include "executor/backend_traits.h"

namespace nixjail::executor {

// kDefault lets a step map writable+executable memory, which JIT compilers need (node's V8 and its
// WebAssembly, the JVM). kStrict forbids it (seccomp W^X rule, MemoryDenyWriteExecute=): that
// guards a process against memory-corruption exploits, worth little in a CI job whose code is the
// attacker's if anyone's; the host and the secrets are protected by everything else in the jail.
enum class HardeningProfile { kDefault, kStrict };

struct BindMount {
    std::filesystem::path host;  // path on the host
    std::filesystem::path jail;  // where it appears inside the jail
    bool writable = false;
};

struct Limits {
    std::uint64_t memory_max_bytes = 4ull << 30;
    std::uint32_t pids_max = 4096;
    double cpu_quota = 0;  // CPUs; 0 = unlimited
    std::uint64_t nofile_max = 1024;
    std::chrono::milliseconds wall_time{std::chrono::hours(6)};
    // The job's writable directories (workspace, home, runner temp, tool cache) live on a volume
    // of this size, so a job cannot fill the host's disk; 0: no quota. Applied by the job
    // (engine::JobRun), not by the executor.
    std::uint64_t disk_max_bytes = 0;
};

// Fixed for the whole job.
struct JailSpec {
    std::string job_id;                // names cgroups, logs
    std::filesystem::path root;        // prepared root (closure + /etc); empty for the host backend
    std::vector<BindMount> binds;      // workspace, runner temp, action dirs, ...
    HardeningProfile profile = HardeningProfile::kDefault;
    Limits limits;
    int netns_fd = -1;                 // the job's network namespace; -1: a new empty one
    // Backends whose steps may reach only the job's proxy on the host's loopback
    // (BackendTraits::Network::kLoopbackOnly): its port; 0: no network at all.
    std::uint16_t proxy_port = 0;
    std::string hostname = "nixjail";
};

// A step attached to the caller's own files instead of the output pipe (a shell in a kept job,
// --break-on-failure): the fds stay the caller's; the backend dups them into the step.
struct StepStdio {
    int in = -1;
    int out = -1;
    int err = -1;
    // `in` is a terminal (a pty's slave end) the step takes as its controlling terminal, so that
    // an interactive shell gets job control and Ctrl-C.
    bool terminal = false;
};

// The cgroup limits a step's process was under, read on the host from the cgroup it was in.
struct AppliedLimits {
    std::optional<std::uint64_t> memory_max_bytes;  // nullopt: no limit (or no memory controller)
    std::optional<std::uint64_t> pids_max;          // nullopt: no limit
};

// How a prelude ended, as admit() sees it.
struct PreludeResult {
    std::string output;       // its stdout and stderr, merged; at most 64 KiB
    std::string setup_error;  // non-empty when the jail could not start it (phase: reason)
    int exit_code = -1;       // -1 when killed by a signal or never started
    int term_signal = 0;
    bool timed_out = false;
    bool cancelled = false;
    // What the backend saw applied to the cgroup the prelude and the step run in; nullopt: it
    // cannot tell.
    std::optional<AppliedLimits> applied_limits;
};

struct StepPrelude {
    std::vector<std::string> argv;  // argv[0] as a path in the jail
    std::vector<std::string> env;
    std::filesystem::path cwd;
    std::chrono::milliseconds timeout{30000};
    // Called once the prelude has ended (or could not start), before the step may start, on the
    // thread calling run(). Empty: the step starts. Otherwise why it must not: the jail is killed
    // with nothing of the step run, and the result's setup_error is "prelude: " and the reason.
    std::function<std::string(const PreludeResult&)> admit;
};

// A detached mount (base::DetachedTmpfs) a step's jail attaches at `jail` for that step alone:
// the step's command files and script, in memory, never mounted on the host.
struct StepFilesMount {
    int mount_fd = -1;           // the caller's; stays open until run() returns
    std::filesystem::path jail;  // an existing directory in the jail, reached without links
};

// Per step.
struct StepInvocation {
    std::vector<std::string> argv;
    std::vector<std::string> env;  // KEY=VALUE, exactly what the step sees
    std::filesystem::path cwd;     // as seen inside the jail
    std::optional<std::chrono::milliseconds> timeout;
    std::stop_token cancel;        // stop requested: kill the step's tree, result.cancelled
    // Receives stdout and stderr, merged, in arrival order, from the thread calling run().
    std::function<void(std::string_view)> on_output;
    // Set: the step's stdin, stdout and stderr are these (on_output then receives nothing).
    // Only backends with BackendTraits::attaches_stdio take it; the others fail the step with a
    // setup_error saying so.
    std::optional<StepStdio> stdio;
    // Set: a program the jail runs first, in this step's own jail and under its limits, whose
    // verdict decides whether the step starts (the jail's self-check in the job's first step).
    // Only backends with BackendTraits::runs_preludes take it; the others fail the step with a
    // setup_error saying so.
    std::optional<StepPrelude> prelude;
    // Set: a mount the jail attaches for this step (and its prelude). Only backends with
    // BackendTraits::mounts_detached take it; the others fail the step with a setup_error saying
    // so.
    std::optional<StepFilesMount> files_mount;
};

struct StepResult {
    int exit_code = -1;  // -1 when killed by a signal or never started
    int term_signal = 0;
    bool timed_out = false;
    bool cancelled = false;
    bool oom_killed = false;
    std::chrono::milliseconds wall_time{0};
    std::chrono::milliseconds cpu_time{0};
    std::uint64_t peak_memory_bytes = 0;
    std::string setup_error;  // non-empty when the jail could not start the step (phase: reason)
    // What the backend saw applied to the step's cgroup; nullopt: it cannot tell.
    std::optional<AppliedLimits> applied_limits;

    bool succeeded() const { return exit_code == 0 && setup_error.empty() && !timed_out && !cancelled; }
};

// Owns the per-job resources (cgroup, mounts, namespaces); releases them when destroyed.
class Jail {
public:
    virtual ~Jail() = default;
    // Runs one step to completion (or timeout/cancel); never leaves a process of the step behind.
    virtual StepResult run(const StepInvocation& step) = 0;
};

class Executor {
public:
    virtual ~Executor() = default;
    virtual std::string name() const = 0;
    // What the backend is (paths, root, network, step owner), fixed when it is made. The runner
    // reads it once, into its job plan (runner/job/job_plan.h).
    virtual BackendTraits traits() const = 0;
    virtual std::unique_ptr<Jail> prepare(const JailSpec& spec) = 0;
};

}  // namespace nixjail::executor
