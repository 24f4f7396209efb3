// The unit's property list: golden files per profile, every hardening property asserted by name.
#include "executor/systemd/unit_properties.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "executor/namespace/golden.h"
#include "runner/base/error.h"

namespace nixjail::executor::sysd {
namespace {

UnitPropertyInputs sample(HardeningProfile profile) {
    UnitPropertyInputs in;
    in.root = "/var/lib/nixjail/jobs/42/root";
    in.binds = {{"/nix/store/abc-bash-5.2", "/nix/store/abc-bash-5.2", false},
                {"/var/lib/nixjail/jobs/42/workspace", "/workspace", true},
                {"/var/lib/nixjail/jobs/42/temp", "/runner/temp", true}};
    in.profile = profile;
    in.limits.memory_max_bytes = 2ull << 30;
    in.limits.pids_max = 512;
    in.limits.cpu_quota = 1.5;
    in.limits.nofile_max = 1024;
    in.runtime_max = std::chrono::minutes(30);
    in.stop_timeout = std::chrono::seconds(5);
    in.netns_path = "/proc/1234/fd/7";
    in.uid = 0x700003e8;
    in.gid = 0x700003e8;
    in.result_file = "/run/nixjail/nixjail-systemd-Ab12Cd/step-1.result";
    return in;
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += x + "\n";
    return s;
}

bool has(const std::vector<std::string>& props, const std::string& p) {
    return std::find(props.begin(), props.end(), p) != props.end();
}

TEST(UnitProperties, DefaultProfileMatchesGolden) {
    testing::expectGolden(
        "unit_properties_default.txt",
        joined(planUnitProperties(sample(HardeningProfile::kDefault)).properties));
}

TEST(UnitProperties, StrictProfileMatchesGolden) {
    testing::expectGolden(
        "unit_properties_strict.txt",
        joined(planUnitProperties(sample(HardeningProfile::kStrict)).properties));
}

TEST(UnitProperties, StrictProfileSetsTheWholeHardeningSet) {
    auto p = planUnitProperties(sample(HardeningProfile::kStrict));
    EXPECT_TRUE(p.weakenings.empty());
    for (const char* want : {
             "RootDirectory=/var/lib/nixjail/jobs/42/root",
             "BindReadOnlyPaths=/nix/store/abc-bash-5.2:/nix/store/abc-bash-5.2",
             "BindPaths=/var/lib/nixjail/jobs/42/workspace:/workspace",
             "BindPaths=/var/lib/nixjail/jobs/42/temp:/runner/temp",
             "User=1879049192",
             "Group=1879049192",
             "NoNewPrivileges=yes",
             "CapabilityBoundingSet=",
             "AmbientCapabilities=",
             "ProtectSystem=strict",
             "ProtectHome=yes",
             "TemporaryFileSystem=/tmp:mode=1777,nosuid,nodev,size=536870912 "
             "/dev/shm:mode=1777,nosuid,nodev,size=536870912",
             "RootDirectoryStartOnly=yes",
             "PrivateDevices=yes",
             "PrivateIPC=yes",
             "PrivateUsers=yes",
             "ProtectKernelTunables=yes",
             "ProtectKernelModules=yes",
             "ProtectKernelLogs=yes",
             "ProtectControlGroups=yes",
             "ProtectClock=yes",
             "ProtectHostname=yes",
             "ProtectProc=invisible",
             "ProcSubset=pid",
             "RestrictNamespaces=yes",
             "RestrictSUIDSGID=yes",
             "RestrictRealtime=yes",
             "LockPersonality=yes",
             "MemoryDenyWriteExecute=yes",
             "SystemCallFilter=@system-service",
             "SystemCallErrorNumber=EPERM",
             "SystemCallArchitectures=native",
             "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
             "NetworkNamespacePath=/proc/1234/fd/7",
             "MemoryMax=2147483648",
             "TasksMax=512",
             "CPUQuota=150%",
             "LimitNOFILE=1024",
             "RuntimeMaxSec=1800000ms",
             "UMask=0022",
             "KeyringMode=private",
             "RemoveIPC=yes",
         }) {
        EXPECT_TRUE(has(p.properties, want)) << "missing " << want;
    }
    auto deny = std::find_if(p.properties.begin(), p.properties.end(), [](const std::string& s) {
        return s.rfind("SystemCallFilter=~", 0) == 0;
    });
    ASSERT_NE(deny, p.properties.end());
    // Space-separated after "SystemCallFilter=~".
    const std::string list = " " + deny->substr(18) + " ";
    for (const char* group :
         {"@mount", "@module", "@reboot", "@swap", "@raw-io", "@debug", "@clock", "keyctl", "bpf",
          "userfaultfd", "kexec_load", "ptrace", "perf_event_open", "io_uring_setup"}) {
        EXPECT_NE(list.find(std::string(" ") + group + " "), std::string::npos) << group;
    }
}

TEST(UnitProperties, DefaultDropsOnlyMemoryDenyWriteExecuteAndNamesIt) {
    auto strict = planUnitProperties(sample(HardeningProfile::kStrict)).properties;
    auto def = planUnitProperties(sample(HardeningProfile::kDefault));
    std::vector<std::string> missing;
    for (const auto& p : strict) {
        if (!has(def.properties, p)) missing.push_back(p);
    }
    EXPECT_EQ(missing, std::vector<std::string>{"MemoryDenyWriteExecute=yes"});
    EXPECT_EQ(def.properties.size() + 1, strict.size());
    ASSERT_EQ(def.weakenings.size(), 1u);
    EXPECT_NE(def.weakenings[0].find("MemoryDenyWriteExecute"), std::string::npos);
    EXPECT_NE(def.weakenings[0].find("strict"), std::string::npos);
}

TEST(UnitProperties, NoJobNamespaceMeansPrivateNetwork) {
    auto in = sample(HardeningProfile::kDefault);
    in.netns_path.clear();
    auto p = planUnitProperties(in).properties;
    EXPECT_TRUE(has(p, "PrivateNetwork=yes"));
    for (const auto& s : p) EXPECT_EQ(s.rfind("NetworkNamespacePath=", 0), std::string::npos);
}

TEST(UnitProperties, DynamicUserReplacesTheFixedIds) {
    auto in = sample(HardeningProfile::kDefault);
    in.dynamic_user = true;
    auto p = planUnitProperties(in).properties;
    EXPECT_TRUE(has(p, "DynamicUser=yes"));
    for (const auto& s : p) {
        EXPECT_NE(s.rfind("User=", 0), 0u) << s;
        EXPECT_NE(s.rfind("Group=", 0), 0u) << s;
    }
}

TEST(UnitProperties, UnlimitedCpuHasNoQuota) {
    auto in = sample(HardeningProfile::kDefault);
    in.limits.cpu_quota = 0;
    for (const auto& s : planUnitProperties(in).properties)
        EXPECT_EQ(s.rfind("CPUQuota=", 0), std::string::npos);
}

TEST(UnitProperties, ResultRecorderRunsOutsideTheSandboxWithoutExpansion) {
    auto p = planUnitProperties(sample(HardeningProfile::kDefault)).properties;
    ASSERT_EQ(p.back().rfind("ExecStopPost=+:/bin/sh -c '", 0), 0u) << p.back();
    EXPECT_NE(p.back().find(">/run/nixjail/nixjail-systemd-Ab12Cd/step-1.result;"),
              std::string::npos);
}

TEST(UnitProperties, PathsSystemdCannotExpressAreRefusedWithTheAlternative) {
    for (const char* bad : {"/work/a:b", "/work/a b", "/work/a\"b", "/work/a\\b", "/work/a\nb",
                            "/work/a'b", "relative/path"}) {
        auto in = sample(HardeningProfile::kDefault);
        in.binds.push_back({bad, "/workspace/x", true});
        try {
            planUnitProperties(in);
            ADD_FAILURE() << "accepted " << bad;
        } catch (const base::Error& e) {
            EXPECT_NE(std::string(e.what()).find("bind source"), std::string::npos) << e.what();
        }
    }
    auto in = sample(HardeningProfile::kDefault);
    in.root = "/roots/a:b";
    try {
        planUnitProperties(in);
        ADD_FAILURE() << "accepted a root with a colon";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("namespace executor"), std::string::npos);
    }
}

}  // namespace
}  // namespace nixjail::executor::sysd
