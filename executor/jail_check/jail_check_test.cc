// The nixjail-jail-check program itself, run in real processes that were made to keep all of the
// jail's promises but one: it must see exactly the broken one (needs root).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "executor/jail_check/jail_promises.h"

namespace nixjail::executor {
namespace {

struct Weakening {
    bool keep_network = false;  // stay in the host's network namespace
    bool writable_store = false;
    bool no_seccomp = false;
    bool no_no_new_privs = false;
    bool keep_capabilities = false;
};

// Child side, between fork and exec; returns only on failure (the step that failed).
const char* enterWeakJail(const Weakening& w) {
    if (!w.keep_network && ::unshare(CLONE_NEWNET) != 0) return "unshare(CLONE_NEWNET)";
    if (::unshare(CLONE_NEWNS) != 0) return "unshare(CLONE_NEWNS)";
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return "making / private";
    if (!w.writable_store) {
        if (::mount("/nix/store", "/nix/store", nullptr, MS_BIND, nullptr) != 0) return "binding the store";
        if (::mount(nullptr, "/nix/store", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0)
            return "making the store read-only";
    }
    if (!w.no_seccomp) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx) return "seccomp_init";
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);  // no_new_privs is a promise of its own
        seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(kexec_load), 0);
        if (seccomp_load(ctx) != 0) return "seccomp_load";
    }
    if (!w.no_no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return "no_new_privs";
    if (!w.keep_capabilities) {
        // uid 0 stays (it owns the store, so only the read-only mount protects it); every
        // capability set is emptied.
        // NOROOT: executing the program as uid 0 must not hand the capabilities back.
        if (::prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED, 0, 0, 0) != 0)
            return "securebits";
        ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        __user_cap_header_struct header{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        __user_cap_data_struct data[2] = {};
        if (::syscall(SYS_capset, &header, data) != 0) return "capset";
    }
    return nullptr;
}

struct ProgramRun {
    int exit_code = -1;
    std::string output;
};

ProgramRun runWeakened(const Weakening& w) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out[1], STDOUT_FILENO);
        if (const char* failed = enterWeakJail(w)) {
            ::dprintf(STDOUT_FILENO, "setup failed: %s: %s\n", failed, ::strerror(errno));
            ::_exit(99);
        }
        ::execl(NIXJAIL_JAIL_CHECK_PROGRAM, "nixjail-jail-check", nullptr);
        ::_exit(98);
    }
    ::close(out[1]);
    ProgramRun run;
    char buf[4096];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) run.output.append(buf, n);
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
}

class JailCheckProgram : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) {
            const char* strict = std::getenv("NIXJAIL_TESTS_STRICT");
            if (strict && std::string(strict) == "1") FAIL() << "needs root";
            GTEST_SKIP() << "needs root (namespaces, mounts, capset)";
        }
        if (!std::filesystem::is_directory("/nix/store")) GTEST_SKIP() << "no /nix/store here";
    }

    // Runs the program with one promise broken; every other check must pass and that one fail.
    void expectOnlyBroken(const Weakening& w, const std::string& broken, const std::string& detail_part) {
        auto run = runWeakened(w);
        ASSERT_NE(run.exit_code, 99) << run.output;
        auto checks = parseChecks(run.output);
        ASSERT_EQ(checks.size(), 5u) << run.output;
        for (const auto& c : checks) {
            EXPECT_EQ(c.passed, c.name != broken) << c.name << ": " << c.detail;
            if (c.name == broken) {
                EXPECT_NE(c.detail.find(detail_part), std::string::npos) << c.detail;
            }
        }
        EXPECT_EQ(run.exit_code, broken.empty() ? 0 : 1) << run.output;
    }
};

TEST_F(JailCheckProgram, PassesInAProcessThatKeepsEveryPromise) {
    expectOnlyBroken({}, "", "");
}

TEST_F(JailCheckProgram, SeesTheHostsNetwork) {
    // The host has an interface besides loopback wherever this test can reach a package mirror.
    expectOnlyBroken({.keep_network = true}, "network", "not only loopback");
}

TEST_F(JailCheckProgram, SeesAWritableStoreAndLeavesNothingThere) {
    expectOnlyBroken({.writable_store = true}, "store", "could create a file");
    for (const auto& e : std::filesystem::directory_iterator("/nix/store")) {
        EXPECT_EQ(e.path().filename().string().rfind(".nixjail-jail-check", 0), std::string::npos) << e.path();
    }
}

TEST_F(JailCheckProgram, SeesNoSeccompFilter) {
    expectOnlyBroken({.no_seccomp = true}, "seccomp", "mode 0");
}

TEST_F(JailCheckProgram, SeesNoNewPrivsUnset) {
    expectOnlyBroken({.no_no_new_privs = true}, "no_new_privs", "not set");
}

TEST_F(JailCheckProgram, SeesCapabilitiesKept) {
    expectOnlyBroken({.keep_capabilities = true}, "capabilities", "CapEff=");
}

}  // namespace
}  // namespace nixjail::executor
