// Cgroup knob writing and counter parsing, against a fake cgroupfs in a temporary directory (the
// live tests cover the real v1 hierarchy of this machine; v2 is only reachable here this way).
#include "executor/namespace/cgroup.h"

#include <gtest/gtest.h>

#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::executor::ns {
namespace {

namespace fs = std::filesystem;

void emptyDir(const fs::path& dir) {
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.is_regular_file()) fs::remove(e.path());
    }
}

fs::path onlySubdir(const fs::path& dir) {
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.is_directory()) return e.path();
    }
    return {};
}

TEST(CgroupV2, StepLimitsAndCountersUseTheUnifiedKnobs) {
    base::TempDir fake("nixjail-fakecg-");
    CgroupLayout layout{.v2 = true, .hierarchies = {{"", fake.path()}}};
    JobCgroup job(layout, "job 42/x");
    EXPECT_EQ(base::readFile(fake.path() / "cgroup.subtree_control"), "+memory +pids +cpu");
    auto jobDir = onlySubdir(fake.path());
    EXPECT_EQ(jobDir.filename().string().rfind("nixjail-job_42_x-", 0), 0u) << jobDir;
    Limits limits;
    limits.memory_max_bytes = 1 << 30;
    limits.pids_max = 99;
    limits.cpu_quota = 1.5;
    {
        auto step = job.createStep(limits, 1);
        auto dir = jobDir / "step-1";
        EXPECT_EQ(base::readFile(dir / "memory.max"), "1073741824");
        EXPECT_EQ(base::readFile(dir / "pids.max"), "99");
        EXPECT_EQ(base::readFile(dir / "cpu.max"), "150000 100000");
        EXPECT_GE(step.directoryFd(), 0);  // the jail is cloned straight into it
        step.addProcess(1234);
        EXPECT_EQ(base::readFile(dir / "cgroup.procs"), "1234");
        step.killAll();
        EXPECT_EQ(base::readFile(dir / "cgroup.kill"), "1");
        base::writeFile(dir / "memory.peak", "52428800\n");
        base::writeFile(dir / "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
        base::writeFile(dir / "cpu.stat", "usage_usec 2500000\nuser_usec 2000000\n");
        auto used = step.usage();
        EXPECT_EQ(used.peak_memory_bytes, 52428800u);
        EXPECT_TRUE(used.oom_killed);
        EXPECT_TRUE(used.cpu_known);
        EXPECT_EQ(used.cpu.count(), 2500);
        emptyDir(dir);
        step.remove();
        EXPECT_FALSE(fs::exists(dir));
    }
    emptyDir(jobDir);
}

TEST(CgroupV1, CountersComeFromMemoryAndCpuacct) {
    base::TempDir fake("nixjail-fakecg-");
    fs::create_directories(fake.path() / "memory");
    fs::create_directories(fake.path() / "cpuacct");
    CgroupLayout layout{.v2 = false,
                        .hierarchies = {{"memory", fake.path() / "memory"},
                                        {"cpuacct", fake.path() / "cpuacct"}}};
    JobCgroup job(layout, "j");
    auto memJob = onlySubdir(fake.path() / "memory");
    auto cpuJob = onlySubdir(fake.path() / "cpuacct");
    {
        auto step = job.createStep(Limits{}, 3);
        EXPECT_EQ(step.directoryFd(), -1);  // v1: one cgroup per controller, moved into after clone
        base::writeFile(memJob / "step-3/memory.max_usage_in_bytes", "1048576\n");
        base::writeFile(memJob / "step-3/memory.oom_control",
                        "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
        base::writeFile(cpuJob / "step-3/cpuacct.usage", "1500000000\n");
        auto used = step.usage();
        EXPECT_EQ(used.peak_memory_bytes, 1048576u);
        EXPECT_FALSE(used.oom_killed);
        EXPECT_EQ(used.cpu.count(), 1500);
        emptyDir(memJob / "step-3");
        emptyDir(cpuJob / "step-3");
    }
}

TEST(CgroupV2, JobsGoBesideASystemdSupervisorLeaf) {
    EXPECT_EQ(v2JobParent("/system.slice/nixjail-runner-ci.service/supervisor"),
              "/system.slice/nixjail-runner-ci.service");
    EXPECT_EQ(v2JobParent("/user.slice/session-1.scope"), "/user.slice/session-1.scope");
    EXPECT_EQ(v2JobParent("/"), "/");
}

// A starting runner sweeps what dead runners left, never the live jobs of another runner in the
// same cgroup (two daemons, or a daemon and exec).
TEST(CgroupNames, OwnerTagsSpareLiveRunners) {
    const std::string mine = std::string(kCgroupPrefix) + "build-" + ownerTag() + "-a1b2c3";
    EXPECT_TRUE(ownedByLiveProcess(mine));
    EXPECT_TRUE(ownedByLiveProcess("nixjail-stage-job-p1-zzzzzz"));  // PID 1 always exists
    EXPECT_FALSE(ownedByLiveProcess("nixjail-build-p999999999-a1b2c3"));  // no such process
    EXPECT_FALSE(ownedByLiveProcess("nixjail-build-a1b2c3"));  // untagged: an old leftover
    EXPECT_FALSE(ownedByLiveProcess("nixjail-build-pxyz-a1b2c3"));
}

TEST(CgroupNames, JobIdsAreMadeSafe) {
    EXPECT_EQ(cgroupSafeName("owner/repo#12 build"), "owner_repo_12_build");
    EXPECT_EQ(cgroupSafeName(".."), "job..");
    EXPECT_EQ(cgroupSafeName(""), "job");
    EXPECT_EQ(cgroupSafeName(std::string(100, 'a')).size(), 40u);
}

}  // namespace
}  // namespace nixjail::executor::ns
