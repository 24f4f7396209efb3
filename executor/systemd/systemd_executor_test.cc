// The systemd backend's probe and factory: refused with the alternative named where systemd is
// not PID 1; specs it cannot express are refused before any step.
#include "executor/systemd/systemd_executor.h"

#include <gtest/gtest.h>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::executor {
namespace {

namespace fs = std::filesystem;

// A fake /proc and /run: PID 1 named `pid1`, with or without /run/systemd/system.
struct FakeHost {
    FakeHost(const std::string& pid1, bool marker) {
        fs::create_directories(dir.path() / "proc/1");
        base::writeFile(dir.path() / "proc/1/comm", pid1 + "\n");
        fs::create_directories(dir.path() / "run");
        if (marker) fs::create_directories(dir.path() / "run/systemd/system");
    }
    SystemdOptions options() const {
        SystemdOptions o;
        o.proc_root = dir.path() / "proc";
        o.run_root = dir.path() / "run";
        o.state_parent = dir.path();
        o.step_account_known = [](uid_t, gid_t) { return true; };
        return o;
    }
    base::TempDir dir{"nixjail-fakehost-"};
};

TEST(SystemdIsPid1, NeedsBothTheMarkerAndSystemdAsPid1) {
    FakeHost yes("systemd", true), noMarker("systemd", false), otherInit("process_api", true);
    EXPECT_TRUE(systemdIsPid1(yes.options().proc_root, yes.options().run_root));
    EXPECT_FALSE(systemdIsPid1(noMarker.options().proc_root, noMarker.options().run_root));
    EXPECT_FALSE(systemdIsPid1(otherInit.options().proc_root, otherInit.options().run_root));
}

TEST(MakeSystemdExecutor, RefusedWithoutSystemdAndNamesTheNamespaceBackend) {
    FakeHost host("process_api", false);
    try {
        makeSystemdExecutor(host.options());
        FAIL() << "created a systemd executor without systemd";
    } catch (const base::Error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("systemd is not PID 1"), std::string::npos) << what;
        EXPECT_NE(what.find("'process_api'"), std::string::npos) << what;
        EXPECT_NE(what.find("namespace executor"), std::string::npos) << what;
    }
}

TEST(MakeSystemdExecutor, RefusedOnThisMachineUnlessSystemdRunsIt) {
    if (systemdIsPid1()) {
        EXPECT_EQ(makeSystemdExecutor()->name(), "systemd");
    } else {
        EXPECT_THROW(makeSystemdExecutor(), base::Error);
    }
}

TEST(MakeSystemdExecutor, TheStepAccountIdIsTheOneTheModuleAndTheSuiteDeclare) {
    // nixos-module/render.nix (stepAccountId) and tests/systemd/suite make this account.
    EXPECT_EQ(SystemdOptions{}.step_uid, 1879049192u);
    EXPECT_EQ(SystemdOptions{}.step_gid, 1879049192u);
    EXPECT_EQ(stepAccountCommand(),
              "groupadd --system --gid 1879049192 nixjail-step && useradd --system --uid "
              "1879049192 --gid 1879049192 --no-create-home --home-dir /nonexistent --shell "
              "/usr/sbin/nologin nixjail-step");
}

TEST(MakeSystemdExecutor, AStepAccountTheUserDatabaseLacksIsRefusedWithTheCommandThatMakesIt) {
    FakeHost host("systemd", true);
    auto o = host.options();
    o.step_account_known = [](uid_t, gid_t) { return false; };
    try {
        makeSystemdExecutor(o);
        FAIL() << "made a systemd executor whose every unit would fail with 217/USER";
    } catch (const base::Error& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("cannot use the systemd executor: steps run as uid 1879049192 and gid "
                         "1879049192, which this machine's user database does not know"),
                  std::string::npos)
            << m;
        EXPECT_NE(m.find(stepAccountCommand(o)), std::string::npos) << m;
        EXPECT_NE(m.find("--executor namespace"), std::string::npos) << m;
    }
    o.dynamic_user = true;  // systemd makes DynamicUser= accounts itself
    EXPECT_FALSE(systemdUnusableReason(o));
}

TEST(MakeSystemdExecutor, ReportsTheFixedStepOwnerUnlessDynamicUser) {
    FakeHost host("systemd", true);
    auto o = host.options();
    o.step_uid = 4242;
    o.step_gid = 4343;
    auto fixed = makeSystemdExecutor(o);
    EXPECT_EQ(fixed->name(), "systemd");
    EXPECT_TRUE(fixed->traits().remaps_paths);
    ASSERT_TRUE(fixed->traits().step_owner);
    EXPECT_EQ(fixed->traits().step_owner->uid, 4242u);
    EXPECT_EQ(fixed->traits().step_owner->gid, 4343u);
    o.dynamic_user = true;
    EXPECT_FALSE(makeSystemdExecutor(o)->traits().step_owner);
}

TEST(SystemdExecutorPrepare, RefusesAMissingRootAndInexpressibleBinds) {
    FakeHost host("systemd", true);
    auto executor = makeSystemdExecutor(host.options());
    JailSpec spec;
    spec.job_id = "42";
    spec.root = host.dir.path() / "no-such-root";
    EXPECT_THROW(executor->prepare(spec), base::Error);

    spec.root = host.dir.path() / "root";
    fs::create_directories(spec.root);
    fs::create_directories(host.dir.path() / "odd:dir");
    spec.binds = {{host.dir.path() / "odd:dir", "/workspace", true}};
    try {
        executor->prepare(spec);
        FAIL() << "accepted a bind with a colon";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("odd:dir"), std::string::npos) << e.what();
    }
    spec.binds = {{host.dir.path() / "root", "/workspace", true}};
    EXPECT_NE(executor->prepare(spec), nullptr);
}

}  // namespace
}  // namespace nixjail::executor

namespace nixjail::executor {
namespace {

// A stand-in systemctl that records its arguments, then exits with `code` saying `message`.
std::filesystem::path fakeSystemctl(const base::TempDir& dir, int code,
                                    const std::string& message) {
    const auto script = dir.path() / "systemctl";
    base::writeFile(script, "#!/bin/sh\necho \"$@\" >> '" + (dir.path() / "calls").string() +
                                "'\necho '" + message + "' >&2\nexit " + std::to_string(code) +
                                "\n");
    std::filesystem::permissions(script, std::filesystem::perms::owner_all);
    return script;
}

// A restarted runner stops the step units its crashed predecessor left, and only its own: the
// pattern carries its instance tag. Without a tag it refuses; a failing systemctl is an error
// with systemctl's message.
TEST(SweepSystemdUnits, StopsAndForgetsOnlyThisInstancesUnits) {
    base::TempDir dir("nixjail-sweep-test-");
    SystemdOptions o;
    o.systemctl = fakeSystemctl(dir, 0, "").string();
    o.instance = "ab12cd34";
    sweepSystemdUnits(o);
    EXPECT_EQ(base::readFile(dir.path() / "calls"),
              "stop nixjail-ab12cd34--*.service\nreset-failed nixjail-ab12cd34--*.service\n");

    o.instance.clear();
    EXPECT_THROW(sweepSystemdUnits(o), base::Error);

    base::TempDir failing("nixjail-sweep-test-");
    o.systemctl = fakeSystemctl(failing, 4, "Access denied").string();
    o.instance = "ab12cd34";
    try {
        sweepSystemdUnits(o);
        FAIL() << "a failing systemctl was ignored";
    } catch (const base::Error& e) {
        EXPECT_NE(
            std::string(e.what()).find("systemctl stop 'nixjail-ab12cd34--*.service' exited 4: "
                                       "Access denied"),
            std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace nixjail::executor
