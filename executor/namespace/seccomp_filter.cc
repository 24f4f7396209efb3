// Seccomp rules of the jail: default allow, EPERM for the dangerous syscall groups. Arguments the
// kernel reads as 32-bit ints are compared under a 0xffffffff mask, so garbage in the upper half
// of a register cannot slip past an equality test.
#include "executor/namespace/seccomp_filter.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include "runner/base/error.h"
#include "runner/base/unique_fd.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace nixjail::executor::ns {

namespace {

using Cond = SeccompCondition;
constexpr std::uint64_t kInt = 0xffffffffull;

Cond masked(unsigned arg, std::uint64_t mask, std::uint64_t value) {
    return {.arg = arg, .op = Cond::Op::kMaskedEq, .mask = mask, .value = value};
}
Cond intEq(unsigned arg, std::uint64_t value) { return masked(arg, kInt, value); }
Cond hasBits(unsigned arg, std::uint64_t bits) { return masked(arg, bits, bits); }

void deny(std::vector<SeccompRule>& out, const char* group,
          std::initializer_list<const char*> names) {
    for (const char* n : names) out.push_back({.syscall = n, .group = group});
}

void namespaceRules(std::vector<SeccompRule>& out) {
    const std::uint64_t flags[] = {CLONE_NEWNS,  CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET,
                                   CLONE_NEWIPC, CLONE_NEWUTS,  CLONE_NEWCGROUP, CLONE_NEWTIME};
    for (const char* sc : {"unshare", "clone"}) {
        for (auto f : flags) {
            out.push_back({.syscall = sc, .conditions = {hasBits(0, f)}, .group = "namespaces"});
        }
    }
    out.push_back({.syscall = "setns", .group = "namespaces"});
    // clone3 passes its flags in memory that seccomp cannot read; ENOSYS makes glibc use clone.
    out.push_back({.syscall = "clone3", .errno_value = ENOSYS, .group = "namespaces"});
}

void socketRules(std::vector<SeccompRule>& out) {
    // Only AF_UNIX, AF_INET and AF_INET6: no netlink, packet, bluetooth, vsock, ...
    for (int family = 0; family < AF_MAX; ++family) {
        if (family == AF_UNIX || family == AF_INET || family == AF_INET6) continue;
        out.push_back({.syscall = "socket",
                       .conditions = {intEq(0, static_cast<unsigned>(family))},
                       .group = "address-families"});
    }
    for (int type : {SOCK_RAW, SOCK_PACKET}) {
        out.push_back({.syscall = "socket",
                       .conditions = {masked(1, 0xf, static_cast<unsigned>(type))},
                       .group = "raw-sockets"});
    }
}

void suidRules(std::vector<SeccompRule>& out) {
    for (std::uint64_t bit :
         {static_cast<std::uint64_t>(S_ISUID), static_cast<std::uint64_t>(S_ISGID)}) {
        out.push_back({.syscall = "chmod", .conditions = {hasBits(1, bit)}, .group = "suid"});
        out.push_back({.syscall = "fchmod", .conditions = {hasBits(1, bit)}, .group = "suid"});
        out.push_back({.syscall = "fchmodat", .conditions = {hasBits(2, bit)}, .group = "suid"});
        out.push_back({.syscall = "fchmodat2",
                       .syscall_nr = 452,
                       .conditions = {hasBits(2, bit)},
                       .group = "suid"});
        out.push_back({.syscall = "creat", .conditions = {hasBits(1, bit)}, .group = "suid"});
        out.push_back({.syscall = "open",
                       .conditions = {hasBits(1, O_CREAT), hasBits(2, bit)},
                       .group = "suid"});
        out.push_back({.syscall = "openat",
                       .conditions = {hasBits(2, O_CREAT), hasBits(3, bit)},
                       .group = "suid"});
        out.push_back({.syscall = "mknod", .conditions = {hasBits(1, bit)}, .group = "suid"});
        out.push_back({.syscall = "mknodat", .conditions = {hasBits(2, bit)}, .group = "suid"});
    }
}

void personalityRules(std::vector<SeccompRule>& out) {
    // Deny flags that weaken ASLR or W^X. 0xffffffff (query) has bit 31 set and stays allowed.
    const std::uint64_t flags[] = {ADDR_NO_RANDOMIZE, MMAP_PAGE_ZERO,   ADDR_COMPAT_LAYOUT,
                                   READ_IMPLIES_EXEC, ADDR_LIMIT_32BIT, ADDR_LIMIT_3GB};
    for (auto f : flags) {
        out.push_back({.syscall = "personality",
                       .conditions = {masked(0, f | 0x80000000ull, f)},
                       .group = "personality"});
    }
}

}  // namespace

SeccompPlan planSeccompRules(HardeningProfile profile) {
    SeccompPlan plan;
    auto& r = plan.rules;
    deny(r, "mount",
         {"mount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsconfig",
          "fsmount", "fspick", "mount_setattr"});
    deny(r, "kernel-modules", {"init_module", "finit_module", "delete_module"});
    deny(r, "kexec", {"kexec_load", "kexec_file_load"});
    deny(r, "ptrace", {"ptrace", "process_vm_readv", "process_vm_writev"});
    deny(r, "keyring", {"keyctl", "add_key", "request_key"});
    deny(r, "bpf-perf", {"bpf", "perf_event_open", "userfaultfd"});
    deny(r, "raw-io", {"iopl", "ioperm"});
    // io_uring runs socket/open/connect operations without passing through this filter.
    deny(r, "io-uring", {"io_uring_setup", "io_uring_enter", "io_uring_register"});
    deny(r, "reboot-swap", {"reboot", "swapon", "swapoff"});
    deny(r, "clock", {"settimeofday", "clock_settime", "clock_adjtime", "adjtimex"});
    deny(r, "host-admin",
         {"acct", "quotactl", "syslog", "open_by_handle_at", "lookup_dcookie", "vhangup",
          "nfsservctl"});
    namespaceRules(r);
    socketRules(r);
    suidRules(r);
    personalityRules(r);
    // TIOCSTI pushes input into a terminal the jail shares with someone else.
    r.push_back({.syscall = "ioctl", .conditions = {intEq(1, TIOCSTI)}, .group = "tty"});
    // Not a complete W^X either way: the kernel itself maps an executable stack at exec for a
    // binary whose ELF header asks for one, which no syscall filter sees.
    if (profile == HardeningProfile::kStrict) {
        const std::uint64_t wx = PROT_WRITE | PROT_EXEC;
        r.push_back({.syscall = "mmap", .conditions = {hasBits(2, wx)}, .group = "w^x"});
        r.push_back({.syscall = "mprotect", .conditions = {hasBits(2, wx)}, .group = "w^x"});
        r.push_back({.syscall = "pkey_mprotect", .conditions = {hasBits(2, wx)}, .group = "w^x"});
    } else {
        plan.weakenings.push_back(
            "default profile: writable+executable mappings (mmap/mprotect with "
            "PROT_WRITE|PROT_EXEC) are allowed for JIT compilers; the strict profile forbids them");
    }
    return plan;
}

std::string renderSeccompRules(const SeccompPlan& plan) {
    std::string out;
    char buf[96];
    for (const auto& rule : plan.rules) {
        out += rule.group + ": " + rule.syscall;
        for (const auto& c : rule.conditions) {
            if (c.op == Cond::Op::kEq) {
                std::snprintf(buf, sizeof buf, " a%u==%#llx", c.arg,
                              static_cast<unsigned long long>(c.value));
            } else {
                std::snprintf(buf, sizeof buf, " a%u&%#llx==%#llx", c.arg,
                              static_cast<unsigned long long>(c.mask),
                              static_cast<unsigned long long>(c.value));
            }
            out += buf;
        }
        out += rule.errno_value == ENOSYS ? " -> ENOSYS\n" : " -> EPERM\n";
    }
    for (const auto& w : plan.weakenings) out += "weakened: " + w + "\n";
    return out;
}

SeccompProgram compileSeccompFilter(const SeccompPlan& plan) {
    std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(SCMP_ACT_ALLOW),
                                                         seccomp_release);
    if (!ctx) throw base::Error("seccomp_init failed; is libseccomp usable on this kernel?");
    // Foreign ABIs (i386 via int 0x80, x32) are not in the filter's arch list and get EPERM.
    int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(EPERM));
    if (rc != 0) throw base::SysError("seccomp: setting the bad-arch action", -rc);
    for (const auto& rule : plan.rules) {
        int nr = seccomp_syscall_resolve_name(rule.syscall.c_str());
        if (nr == __NR_SCMP_ERROR) nr = rule.syscall_nr;
        if (nr < 0) continue;  // not a syscall on this architecture (e.g. ioperm elsewhere)
        std::vector<scmp_arg_cmp> cmps;
        for (const auto& c : rule.conditions) {
            if (c.op == Cond::Op::kEq) {
                cmps.push_back({c.arg, SCMP_CMP_EQ, c.value, 0});
            } else {
                cmps.push_back({c.arg, SCMP_CMP_MASKED_EQ, c.mask, c.value});
            }
        }
        rc = seccomp_rule_add_array(ctx.get(),
                                    SCMP_ACT_ERRNO(static_cast<unsigned>(rule.errno_value)), nr,
                                    static_cast<unsigned>(cmps.size()), cmps.data());
        if (rc != 0) {
            throw base::SysError(
                "seccomp: adding rule for '" + rule.syscall + "' (" + rule.group + ")", -rc);
        }
    }
    base::UniqueFd mem(::memfd_create("nixjail-seccomp", MFD_CLOEXEC));
    if (!mem) throw base::SysError("seccomp: memfd_create for the BPF export");
    rc = seccomp_export_bpf(ctx.get(), mem.get());
    if (rc != 0) throw base::SysError("seccomp: exporting BPF", -rc);
    off_t size = ::lseek(mem.get(), 0, SEEK_END);
    if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) {
        throw base::Error("seccomp: exported BPF has an odd size " + std::to_string(size));
    }
    SeccompProgram out;
    out.code.resize(static_cast<size_t>(size) / sizeof(sock_filter));
    if (::pread(mem.get(), out.code.data(), static_cast<size_t>(size), 0) != size) {
        throw base::SysError("seccomp: reading the exported BPF back");
    }
    out.prog.len = static_cast<unsigned short>(out.code.size());
    out.prog.filter = out.code.data();
    return out;
}

int installSeccompFilter(const SeccompProgram& program) {
    sock_fprog prog{program.prog.len, const_cast<sock_filter*>(program.code.data())};
    return ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0 ? 0 : errno;
}

}  // namespace nixjail::executor::ns
