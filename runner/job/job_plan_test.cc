// The job plan for each backend and policy, against golden files (NIXJAIL_ACCEPT=1 rewrites them):
// every decision the runner used to take by asking the executor what it is.
#include "runner/job/job_plan.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "executor/host/host_executor.h"
#include "executor/namespace/namespace_executor.h"
#include "executor/sandbox_exec/sandbox_exec_executor.h"
#include "executor/systemd/systemd_executor.h"
#include "runner/base/file_io.h"

namespace nixjail::runner::job {
namespace {

namespace fs = std::filesystem;
using executor::HardeningProfile;

void expectGolden(const std::string& name, const std::string& actual) {
    const fs::path path = fs::path(NIXJAIL_JOB_TESTDATA) / name;
    if (const char* accept = std::getenv("NIXJAIL_ACCEPT"); accept && std::string(accept) == "1") {
        base::writeFile(path, actual);
        return;
    }
    ASSERT_TRUE(fs::exists(path)) << "missing golden file '" << path.string()
                                  << "'; run with NIXJAIL_ACCEPT=1 to create it";
    EXPECT_EQ(actual, base::readFile(path))
        << "golden file '" << path.string() << "' differs; NIXJAIL_ACCEPT=1 rewrites it";
}

struct Backend {
    std::string name;
    executor::BackendTraits traits;
};

// Each backend's own traits, as its executor reports them (no executor needs to be made).
std::vector<Backend> backends() {
    executor::SystemdOptions dynamic;
    dynamic.dynamic_user = true;
    return {{"host", executor::hostTraits()},
            {"namespace", executor::namespaceTraits(executor::NamespaceOptions{}, 0, 0)},
            {"systemd", executor::systemdTraits(executor::SystemdOptions{})},
            {"systemd-dynamic-user", executor::systemdTraits(dynamic)},
            {"sandbox-exec", executor::sandboxExecTraits()}};
}

struct Policy {
    std::string name;
    JobPolicy policy;
};

std::vector<Policy> policies() {
    return {{"default", {}},
            {"strict-disk", {.profile = HardeningProfile::kStrict, .disk_max_bytes = 2ull << 30}}};
}

TEST(JobPlan, EachBackendAndPolicyMatchesItsGoldenFile) {
    for (const auto& b : backends()) {
        for (const auto& p : policies()) {
            SCOPED_TRACE(b.name + " x " + p.name);
            expectGolden("plan_" + b.name + "_" + p.name + ".txt",
                         describePlan(planJob(b.name, b.traits, p.policy)));
        }
    }
}

// What must hold whatever the golden files say.
TEST(JobPlan, CredentialsBecomeDummiesExactlyWhenAProxyCarriesTheJobsTraffic) {
    for (const auto& b : backends()) {
        const auto plan = planJob(b.name, b.traits, {});
        EXPECT_EQ(plan.credentials_as_dummies, plan.proxied()) << b.name;
    }
    EXPECT_FALSE(planJob("host", executor::hostTraits(), {}).proxied());
    EXPECT_EQ(planJob("sandbox-exec", executor::sandboxExecTraits(), {}).network,
              JobPlan::Network::kLoopbackProxy)
        << "macOS jobs get their proxy too";
}

TEST(JobPlan, OnlyARootOfTheJobsOwnGetsNodeAndLosesTheRunnersTerminal) {
    for (const auto& b : backends()) {
        const auto plan = planJob(b.name, b.traits, {.profile = HardeningProfile::kStrict});
        const bool root = plan.root == JobPlan::Root::kNixRoot;
        EXPECT_EQ(plan.node_in_root, root) << b.name;
        EXPECT_EQ(plan.jitless_node, root) << b.name;
        EXPECT_EQ(plan.pass_terminal, !root) << b.name;
        EXPECT_EQ(plan.jail_paths.has_value(), !plan.judge_paths_on_host) << b.name;
    }
}

}  // namespace
}  // namespace nixjail::runner::job
