// The seccomp rule list per profile (golden files) and its compilation to BPF.
#include "executor/namespace/seccomp_filter.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "executor/namespace/golden.h"

namespace nixjail::executor::ns {
namespace {

bool denies(const SeccompPlan& plan, const std::string& syscall) {
    return std::any_of(plan.rules.begin(), plan.rules.end(),
                       [&](const SeccompRule& r) { return r.syscall == syscall; });
}

TEST(SeccompRules, DefaultProfileMatchesGoldenFile) {
    testing::expectGolden("seccomp_default.txt",
                          renderSeccompRules(planSeccompRules(HardeningProfile::kDefault)));
}

TEST(SeccompRules, StrictProfileMatchesGoldenFile) {
    testing::expectGolden("seccomp_strict.txt",
                          renderSeccompRules(planSeccompRules(HardeningProfile::kStrict)));
}

TEST(SeccompRules, StrictDeniesEveryDangerousGroup) {
    auto plan = planSeccompRules(HardeningProfile::kStrict);
    for (const char* sc : {"mount",        "umount2",     "pivot_root",   "init_module",
                           "finit_module", "kexec_load",  "ptrace",       "process_vm_readv",
                           "keyctl",       "add_key",     "bpf",          "perf_event_open",
                           "userfaultfd",  "iopl",        "ioperm",       "reboot",
                           "swapon",       "unshare",     "setns",        "clone",
                           "clone3",       "personality", "settimeofday", "clock_settime",
                           "socket",       "chmod",       "fchmodat",     "mmap",
                           "mprotect"}) {
        EXPECT_TRUE(denies(plan, sc)) << sc;
    }
    EXPECT_TRUE(plan.weakenings.empty());
}

TEST(SeccompRules, DefaultIsJitCapableAndSaysSo) {
    auto strict = planSeccompRules(HardeningProfile::kStrict);
    auto def = planSeccompRules(HardeningProfile::kDefault);
    EXPECT_FALSE(denies(def, "mmap"));
    EXPECT_FALSE(denies(def, "mprotect"));
    EXPECT_FALSE(denies(def, "pkey_mprotect"));
    EXPECT_EQ(strict.rules.size(), def.rules.size() + 3);
    ASSERT_EQ(def.weakenings.size(), 1u);
    EXPECT_NE(def.weakenings[0].find("PROT_WRITE|PROT_EXEC"), std::string::npos);
    EXPECT_NE(def.weakenings[0].find("strict"), std::string::npos);
}

TEST(SeccompRules, CompileToBpf) {
    auto prog = compileSeccompFilter(planSeccompRules(HardeningProfile::kStrict));
    EXPECT_GT(prog.code.size(), 50u);
    EXPECT_EQ(prog.prog.len, prog.code.size());
}

}  // namespace
}  // namespace nixjail::executor::ns
