#include "executor/executor_factory.h"

#include <gtest/gtest.h>

#include "executor/systemd/systemd_executor.h"
#include "runner/base/error.h"

namespace nixjail::executor {
namespace {

std::string errorOf(const std::string& backend) {
    try {
        makeExecutor(backend);
    } catch (const base::Error& e) {
        return e.what();
    }
    return "";
}

TEST(ExecutorFactory, NamesTheBackends) {
    EXPECT_EQ(makeExecutor("host")->name(), "host");
    EXPECT_EQ(makeExecutor("namespace")->name(), "namespace");
    EXPECT_NE(errorOf("docker").find("unknown executor 'docker'; choose auto, namespace"), std::string::npos)
        << errorOf("docker");
}

TEST(ExecutorFactory, AutoPicksWhatThisMachineCanRun) {
#ifndef __APPLE__
    EXPECT_EQ(autoBackend(), systemdUnusableReason() ? "namespace" : "systemd");
    EXPECT_NE(errorOf("sandbox-exec"), "");  // macOS only, and it says so
    if (!systemdIsPid1()) {
        EXPECT_NE(errorOf("systemd").find("namespace"), std::string::npos) << errorOf("systemd");
        EXPECT_EQ(makeExecutor("auto")->name(), "namespace");
    }
#endif
}

TEST(SweepLeftovers, BackendsWithoutJailsHaveNothingToSweep) {
    for (const std::string backend : {"host", "sandbox-exec"}) {
        const auto sweep = sweepLeftovers(backend, "ci-1");
        EXPECT_FALSE(sweep.failed);
        EXPECT_EQ(sweep.removed, 0);
        EXPECT_EQ(sweep.detail, "executor=" + backend + ", no namespace jails to sweep");
    }
}

TEST(SweepLeftovers, ASystemdSweepWithoutAnInstanceFailsWithoutThrowing) {
    // Without an instance tag it would stop other runners' units, so it refuses before systemctl.
    const auto sweep = sweepLeftovers("systemd", "");
    EXPECT_TRUE(sweep.failed);
    EXPECT_EQ(sweep.detail.rfind("sweep failed: sweeping systemd step units needs the runner's "
                                 "instance tag",
                                 0),
              0u)
        << sweep.detail;
}

// The namespace sweep is not run here: it kills every "nixjail-" cgroup beside the runner's
// whose name has no live owner, on the real machine (tests/systemd/in-systemd's nspawn cgroup
// among them). NamespaceJailTest.SweepRemovesLeftoverCgroupsAndKillsWhatRunsInThem covers it.

}  // namespace
}  // namespace nixjail::executor
