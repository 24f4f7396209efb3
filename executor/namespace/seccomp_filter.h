// The jail's seccomp filter: a planner that lists the denied syscalls for a hardening profile
// (pure data, golden-tested), a compiler to BPF (libseccomp, in the parent) and the child-side
// installer, which only calls prctl.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

#include "executor/executor.h"

namespace nixjail::executor::ns {

struct SeccompCondition {
    enum class Op { kMaskedEq, kEq };
    unsigned arg = 0;
    Op op = Op::kMaskedEq;
    std::uint64_t mask = 0;  // kMaskedEq only
    std::uint64_t value = 0;
};

struct SeccompRule {
    std::string syscall;
    int syscall_nr = -1;  // for syscalls this libseccomp may not know by name; -1: by name
    int errno_value = 1;  // EPERM, or ENOSYS where callers fall back (clone3)
    std::vector<SeccompCondition> conditions;  // all must hold
    std::string group;                         // why: "mount", "namespaces", ...
};

struct SeccompPlan {
    std::vector<SeccompRule> rules;
    std::vector<std::string> weakenings;  // named relaxations of the default profile, to be logged
};

SeccompPlan planSeccompRules(HardeningProfile profile);
std::string renderSeccompRules(const SeccompPlan& plan);

// A compiled filter; `prog` points into `code`, so it is not copyable by accident.
struct SeccompProgram {
    std::vector<sock_filter> code;
    sock_fprog prog{};
    SeccompProgram() = default;
    SeccompProgram(const SeccompProgram&) = delete;
    SeccompProgram& operator=(const SeccompProgram&) = delete;
    SeccompProgram(SeccompProgram&&) = default;
    SeccompProgram& operator=(SeccompProgram&&) = default;
};

// Throws base::Error naming the rule libseccomp rejected.
SeccompProgram compileSeccompFilter(const SeccompPlan& plan);

// Child side, async-signal-safe; needs no_new_privs. Returns 0 or errno.
int installSeccompFilter(const SeccompProgram& program);

}  // namespace nixjail::executor::ns
