// systemd's own parser accepts every generated property: the planned unit is written as a unit
// file and checked with `systemd-analyze verify`, which needs no running systemd (so this runs
// in CI where the live tests cannot).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "executor/systemd/unit_properties.h"
#include "runner/base/child_process.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::executor::sysd {
namespace {

namespace fs = std::filesystem;

std::string findSystemdAnalyze() {
    for (const char* p : {"/usr/bin/systemd-analyze", "/bin/systemd-analyze"}) {
        if (::access(p, X_OK) == 0) return p;
    }
    return {};
}

// systemd-analyze's findings (stderr and stdout), or empty when it has none.
std::string verify(const std::string& tool, const UnitProperties& unit, const fs::path& dir) {
    std::string text = "[Service]\n";
    for (const auto& p : unit.properties) text += p + "\n";
    text += "ExecStart=/bin/true\n";
    auto file = dir / "nixjail-verify.service";
    base::writeFile(file, text);
    auto log = dir / "verify.log";
    base::UniqueFd out(::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    auto child = base::ChildProcess::spawn({.argv = {tool, "verify", "--man=no", file.string()},
                                            .env = {"PATH=/usr/bin:/bin", "SYSTEMD_LOG_COLOR=0"},
                                            .stdout_fd = out.get(),
                                            .stderr_fd = out.get()});
    auto st = child.wait();
    auto findings = base::readFile(log);
    if (st.exitCode() != 0 && findings.empty()) findings = "exit " + std::to_string(st.exitCode());
    return findings;
}

TEST(UnitVerify, SystemdAcceptsEveryPropertyOfBothProfiles) {
    auto tool = findSystemdAnalyze();
    if (tool.empty()) {
        const char* strict = std::getenv("NIXJAIL_TESTS_STRICT");
        if (strict && std::string(strict) == "1") FAIL() << "systemd-analyze is not installed";
        GTEST_SKIP() << "systemd-analyze is not installed (Debian package systemd)";
    }
    base::TempDir dir("nixjail-unit-verify-");
    fs::create_directories(dir.path() / "root/tmp");
    fs::create_directories(dir.path() / "workspace");
    for (auto profile : {HardeningProfile::kDefault, HardeningProfile::kStrict}) {
        for (bool ownNetns : {true, false}) {
            UnitPropertyInputs in;
            in.root = dir.path() / "root";
            in.binds = {{"/usr", "/usr", false}, {dir.path() / "workspace", "/workspace", true}};
            in.profile = profile;
            in.limits.cpu_quota = 2;
            in.runtime_max = std::chrono::minutes(10);
            in.netns_path = ownNetns ? "/proc/self/ns/net" : "";
            in.uid = 0x700003e8;
            in.gid = 0x700003e8;
            in.result_file = dir.path() / "step-1.result";
            EXPECT_EQ(verify(tool, planUnitProperties(in), dir.path()), "")
                << "profile " << int(profile) << " netns " << ownNetns;
        }
    }
    UnitPropertyInputs dynamic;
    dynamic.root = dir.path() / "root";
    dynamic.dynamic_user = true;
    dynamic.runtime_max = std::chrono::minutes(1);
    dynamic.result_file = dir.path() / "r";
    EXPECT_EQ(verify(tool, planUnitProperties(dynamic), dir.path()), "");
}

}  // namespace
}  // namespace nixjail::executor::sysd
