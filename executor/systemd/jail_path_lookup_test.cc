// PATH lookup against the jail's view (root plus binds), not the host's.
#include "executor/systemd/jail_path_lookup.h"

#include <gtest/gtest.h>

#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::executor::sysd {
namespace {

namespace fs = std::filesystem;

TEST(HostPathOf, LongestBindWinsElseTheRoot) {
    std::vector<BindMount> binds = {{"/host/ws", "/workspace", true},
                                    {"/host/tools", "/workspace/tools", false}};
    EXPECT_EQ(hostPathOf("/workspace/a/b", "/r", binds), fs::path("/host/ws/a/b"));
    EXPECT_EQ(hostPathOf("/workspace/tools/x", "/r", binds), fs::path("/host/tools/x"));
    EXPECT_EQ(hostPathOf("/workspace", "/r", binds), fs::path("/host/ws"));
    EXPECT_EQ(hostPathOf("/workspacex/y", "/r", binds), fs::path("/r/workspacex/y"));
    EXPECT_EQ(hostPathOf("/bin/sh", "/r", binds), fs::path("/r/bin/sh"));
}

TEST(LookUpInJail, FindsProgramsInTheJailNotOnTheHost) {
    base::TempDir dir("nixjail-lookup-");
    auto root = dir.path() / "root";
    fs::create_directories(root / "opt/bin");
    fs::create_directories(dir.path() / "tools");
    base::writeFile(root / "opt/bin/hello", "");
    base::writeFile(dir.path() / "tools/mytool", "");
    // An absolute symlink into the jail counts even though it dangles on the host.
    fs::create_symlink("/nix/store/xyz-bash/bin/bash", root / "opt/bin/bash");
    std::vector<BindMount> binds = {{dir.path() / "tools", "/tools", false}};
    std::vector<std::string> env = {"PATH=relative:/opt/bin:/tools"};
    EXPECT_EQ(lookUpInJail("hello", env, root, binds), "/opt/bin/hello");
    EXPECT_EQ(lookUpInJail("bash", env, root, binds), "/opt/bin/bash");
    EXPECT_EQ(lookUpInJail("mytool", env, root, binds), "/tools/mytool");
    EXPECT_EQ(lookUpInJail("ls", env, root, binds), std::nullopt);  // exists on the host only
    EXPECT_EQ(lookUpInJail("./x", env, root, binds), "./x");
    EXPECT_EQ(lookUpInJail("/abs/prog", env, root, binds), "/abs/prog");
}

}  // namespace
}  // namespace nixjail::executor::sysd
