// Decides every property of a step's transient unit. The namespace jail gives the same guarantees
// by its own means (seccomp_filter.cc's deny groups are mirrored in kDeniedSyscalls).
#include "executor/systemd/unit_properties.h"

#include <cstdio>

#include "runner/base/error.h"

namespace nixjail::executor::sysd {

namespace {

// @system-service still allows these; the namespace jail denies them too. Namespace creation is
// RestrictNamespaces=yes, socket families RestrictAddressFamilies=.
constexpr const char* kDeniedSyscalls =
    "~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap "
    "add_key bpf io_uring_enter io_uring_register io_uring_setup keyctl kexec_file_load "
    "kexec_load perf_event_open process_vm_readv process_vm_writev ptrace request_key "
    "userfaultfd";

// systemd splits BindPaths= at colons and whitespace and unquotes; rather than escape, refuse
// what the runner never generates.
std::string checkedPath(std::string path, const char* what) {
    for (unsigned char c : path) {
        if (c == ':' || c == '\\' || c == '"' || c == '\'' || c == ' ' || c < 0x20 || c == 0x7f) {
            throw base::Error(std::string(what) + " '" + path +
                              "' contains a character systemd's unit syntax cannot carry "
                              "(colon, whitespace, quote, backslash or control); rename it or "
                              "use the namespace executor");
        }
    }
    if (path.empty() || path[0] != '/') {
        throw base::Error(std::string(what) + " '" + path + "' must be an absolute path");
    }
    return path;
}

std::string milliseconds(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + "ms"; }

std::string cpuQuotaPercent(double cpus) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f%%", cpus * 100.0);
    return buf;
}

// The limits the unit's cgroup carries, for the jail's self-check: "limit_memory V" and
// "limit_pids V" from v2's memory.max and pids.max, or v1's memory.limit_in_bytes and pids.max.
std::string limitsRecorder(const std::string& file) {
    return "{ [ -e \"$cg/memory.max\" ] && echo \"limit_memory $(cat \"$cg/memory.max\")\"; "
           "[ -e \"$cg/pids.max\" ] && echo \"limit_pids $(cat \"$cg/pids.max\")\"; "
           "[ -z \"$m\" ] || echo \"limit_memory $(cat \"/sys/fs/cgroup/memory$m/memory.limit_in_bytes\")\"; "
           "p=$(sed -n \"s/^[0-9]*:pids://p\" /proc/self/cgroup); "
           "[ -z \"$p\" ] || echo \"limit_pids $(cat \"/sys/fs/cgroup/pids$p/pids.max\")\"; } >>" +
           file + " 2>/dev/null; ";
}

// Runs with full privileges outside the sandbox ('+'), without systemd's $VAR expansion (':'),
// after the main process ended: the only place where systemd's own verdict on the step is
// available once --collect has unloaded the unit.
// On cgroup v1 (systemd reports no oom-kill result there) the memory controller's files stand
// in: its peak (memory.max_usage_in_bytes) and "oom_kill N" from memory.oom_control.
// It runs with the unit's environment, whose PATH is the job's (store paths with neither sed nor
// grep), so it sets the host's own first: without it a daemon job lost every accounting line.
std::string resultRecorder(const std::string& file) {
    return "+:/bin/sh -c 'PATH=/run/current-system/sw/bin:/usr/local/bin:/usr/bin:/bin; echo \"$SERVICE_RESULT $EXIT_CODE $EXIT_STATUS\" >" + file +
           "; cg=/sys/fs/cgroup$(sed -n \"s/^0:://p\" /proc/self/cgroup); "
           "cat \"$cg/memory.peak\" \"$cg/cpu.stat\" >>" +
           file +
           " 2>/dev/null; m=$(sed -n \"s/^[0-9]*:memory://p\" /proc/self/cgroup); "
           "[ -z \"$m\" ] || { cat \"/sys/fs/cgroup/memory$m/memory.max_usage_in_bytes\"; "
           "grep \"^oom_kill \" \"/sys/fs/cgroup/memory$m/memory.oom_control\"; } >>" +
           file + " 2>/dev/null; " + limitsRecorder(file) + "exit 0'";
}

}  // namespace

UnitProperties planUnitProperties(const UnitPropertyInputs& in) {
    UnitProperties out;
    auto& p = out.properties;
    auto add = [&p](std::string s) { p.push_back(std::move(s)); };

    add("Type=exec");
    // Filesystem: the job root, only the listed binds, nothing of the host.
    add("RootDirectory=" + checkedPath(in.root.string(), "jail root"));
    // Only the step itself: the result recorder (ExecStopPost=+) must see this machine's /run and
    // /proc, and '+' lifts the sandbox but not the chroot (observed with systemd 252).
    add("RootDirectoryStartOnly=yes");
    add("MountAPIVFS=yes");
    for (const auto& b : in.binds) {
        const auto host = checkedPath(b.host.string(), "bind source");
        const auto jail = checkedPath(b.jail.string(), "bind target");
        add(std::string(b.writable ? "BindPaths=" : "BindReadOnlyPaths=") + host + ":" + jail);
    }
    add("ProtectSystem=strict");
    add("ProtectHome=yes");
    // A private /tmp and /dev/shm of the job's own, sized (a quarter of the memory limit, as in
    // the namespace jail) so that filling them ends in ENOSPC, not in the OOM killer or a full
    // host disk (PrivateTmp= would put /tmp on the host's /tmp, unsized).
    const std::string sized =
        "mode=1777,nosuid,nodev,size=" + std::to_string(in.limits.memory_max_bytes / 4);
    add("TemporaryFileSystem=/tmp:" + sized + " /dev/shm:" + sized);
    add("PrivateDevices=yes");
    add("PrivateIPC=yes");
    add("UMask=0022");

    // Identity and privileges.
    if (in.dynamic_user) {
        add("DynamicUser=yes");
    } else {
        add("User=" + std::to_string(in.uid));
        add("Group=" + std::to_string(in.gid));
    }
    add("PrivateUsers=yes");
    add("NoNewPrivileges=yes");
    add("CapabilityBoundingSet=");
    add("AmbientCapabilities=");
    add("RestrictSUIDSGID=yes");
    add("KeyringMode=private");
    add("RemoveIPC=yes");

    // Kernel and other processes.
    add("ProtectKernelTunables=yes");
    add("ProtectKernelModules=yes");
    add("ProtectKernelLogs=yes");
    add("ProtectControlGroups=yes");
    add("ProtectClock=yes");
    add("ProtectHostname=yes");
    add("ProtectProc=invisible");
    add("ProcSubset=pid");
    add("RestrictNamespaces=yes");
    add("RestrictRealtime=yes");
    add("LockPersonality=yes");
    if (in.profile == HardeningProfile::kStrict) {
        add("MemoryDenyWriteExecute=yes");
    } else {
        out.weakenings.push_back(
            "MemoryDenyWriteExecute= dropped: writable+executable mappings allowed for JIT "
            "runtimes (default profile; the strict profile sets it)");
    }
    add("SystemCallFilter=@system-service");
    add(std::string("SystemCallFilter=") + kDeniedSyscalls);
    add("SystemCallErrorNumber=EPERM");
    add("SystemCallArchitectures=native");

    // Network: the job's namespace (the proxy's listener lives there), or an empty one.
    add("RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6");
    if (in.netns_path.empty()) {
        add("PrivateNetwork=yes");
    } else {
        add("NetworkNamespacePath=" + checkedPath(in.netns_path, "network namespace path"));
    }

    // Limits; the whole cgroup is killed when the main process exits or time runs out.
    add("MemoryMax=" + std::to_string(in.limits.memory_max_bytes));
    add("MemorySwapMax=0");
    add("TasksMax=" + std::to_string(in.limits.pids_max));
    if (in.limits.cpu_quota > 0) add("CPUQuota=" + cpuQuotaPercent(in.limits.cpu_quota));
    add("LimitNOFILE=" + std::to_string(in.limits.nofile_max));
    add("LimitCORE=0");
    add("RuntimeMaxSec=" + milliseconds(in.runtime_max));
    add("KillMode=control-group");
    add("TimeoutStopSec=" + milliseconds(in.stop_timeout));
    add("ExecStopPost=" + resultRecorder(checkedPath(in.result_file.string(), "result file")));
    return out;
}

}  // namespace nixjail::executor::sysd
