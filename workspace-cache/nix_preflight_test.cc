// The Nix pre-flight check: the decision on given facts, the facts read from a stand-in `nix`,
// and the real Nix told to use a build users group that does not exist.
#include "workspace-cache/nix_preflight.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::cache {
namespace {

namespace fs = std::filesystem;

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// Root, a local store it can write, Nix's default group with ten members: builds work.
NixSetup workingRootSetup() {
    NixSetup s;
    s.nix_build = "/usr/bin/nix-build";
    s.root = true;
    s.build_users_group = "nixbld";
    s.build_users = 10;
    s.daemon_error = "no such socket";
    return s;
}

TEST(NixBuildProblem, RootWithBuildUsersCanBuild) {
    EXPECT_EQ(nixBuildProblem(workingRootSetup()), std::nullopt);
}

TEST(NixBuildProblem, MissingBuildUsersGroupSaysWhichPackageCreatesIt) {
    NixSetup s = workingRootSetup();
    s.build_users.reset();
    const auto problem = nixBuildProblem(s);
    ASSERT_TRUE(problem);
    EXPECT_TRUE(has(*problem, "Nix cannot build: the group 'nixbld' named by Nix's "
                              "build-users-group does not exist"))
        << *problem;
    EXPECT_TRUE(has(*problem, "apt-get install nix-bin nix-setup-systemd")) << *problem;
    EXPECT_TRUE(has(*problem, "NIX_REMOTE=daemon")) << *problem;
}

TEST(NixBuildProblem, EmptyBuildUsersGroupIsNamed) {
    NixSetup s = workingRootSetup();
    s.build_users = 0;
    const auto problem = nixBuildProblem(s);
    ASSERT_TRUE(problem);
    EXPECT_TRUE(has(*problem, "the group 'nixbld' named by Nix's build-users-group has no members"))
        << *problem;
}

TEST(NixBuildProblem, BuildUsersMatterOnlyToRootAndOnlyWhenSet) {
    NixSetup s = workingRootSetup();
    s.build_users.reset();
    s.root = false;  // a single-user Nix builds as its user
    EXPECT_EQ(nixBuildProblem(s), std::nullopt);
    s.root = true;
    s.build_users_group = "";  // build-users-group = (empty): root builds as root
    EXPECT_EQ(nixBuildProblem(s), std::nullopt);
}

TEST(NixBuildProblem, MissingNixSaysWhatToInstall) {
    NixSetup s;
    s.searched = "PATH (/usr/bin:/bin)";
    const auto problem = nixBuildProblem(s);
    ASSERT_TRUE(problem);
    EXPECT_TRUE(has(*problem, "Nix is not installed: there is no nix-build in PATH (/usr/bin:/bin)"))
        << *problem;
    EXPECT_TRUE(has(*problem, "apt-get install nix-bin nix-setup-systemd")) << *problem;
}

TEST(NixBuildProblem, UnwritableStoreWithoutDaemonSaysRootOrDaemon) {
    NixSetup s = workingRootSetup();
    s.root = false;
    s.not_writable = "/nix/var/nix";
    const auto problem = nixBuildProblem(s);
    ASSERT_TRUE(problem);
    EXPECT_TRUE(has(*problem, "Nix cannot write its store: '/nix/var/nix' is not writable by uid"))
        << *problem;
    EXPECT_TRUE(has(*problem, "run the runner as root, or build through the nix-daemon"))
        << *problem;
}

TEST(NixBuildProblem, UnwritableStoreGoesThroughAnAnsweringDaemon) {
    NixSetup s = workingRootSetup();
    s.root = false;
    s.not_writable = "/nix/var/nix";
    s.daemon_socket_exists = true;
    s.daemon_error = "";
    EXPECT_EQ(nixBuildProblem(s), std::nullopt);  // store = auto picks the daemon, as Nix does
}

TEST(NixBuildProblem, DaemonStoreNeedsAnAnsweringDaemonButNoLocalBuildUsers) {
    NixSetup s = workingRootSetup();
    s.store = "daemon";
    s.build_users.reset();
    s.daemon_error = "Connection refused";
    const auto problem = nixBuildProblem(s);
    ASSERT_TRUE(problem);
    EXPECT_TRUE(has(*problem, "Nix builds through the nix-daemon here (store = daemon), but nothing "
                              "answers on '/nix/var/nix/daemon-socket/socket': Connection refused"))
        << *problem;
    s.daemon_error = "Permission denied";
    EXPECT_TRUE(has(nixBuildProblem(s).value_or(""), "to the group allowed to use the socket"));
    s.daemon_error = "";
    EXPECT_EQ(nixBuildProblem(s), std::nullopt);
}

TEST(NixBuildProblem, UnreadableSettingsSayWhere) {
    NixSetup s = workingRootSetup();
    s.config_error = "exit 1: error: unknown setting 'bogus'";
    const auto problem = nixBuildProblem(s);
    ASSERT_TRUE(problem);
    EXPECT_TRUE(has(*problem, "cannot read Nix's settings (nix show-config): exit 1: error: "
                              "unknown setting 'bogus'; fix /etc/nix/nix.conf or NIX_CONFIG"))
        << *problem;
}

// A stand-in Nix in its own bin directory: nix-build exists, `nix show-config` prints `settings`.
NixTools standInNix(const base::TempDir& dir, const std::string& settings) {
    const fs::path bin = dir.path() / "bin";
    fs::create_directories(bin);
    base::writeFile(bin / "nix-build", "#!/bin/sh\nexit 1\n");
    base::writeFile(bin / "nix", "#!/bin/sh\nprintf '%s' '" + settings + "'\n");
    for (const char* tool : {"nix-build", "nix"})
        fs::permissions(bin / tool, fs::perms::owner_all);
    NixTools tools;
    tools.bin_dir = bin;
    tools.env = {"NIX_STATE_DIR=" + (dir.path() / "state").string(),
                 "NIX_STORE_DIR=" + (dir.path() / "store").string(), "NIX_REMOTE="};
    return tools;
}

TEST(ReadNixSetup, ReadsNixsSettingsAndLooksUpTheGroup) {
    base::TempDir dir("nixjail-preflight-test-");
    const NixTools tools = standInNix(
        dir, "sandbox = false\nbuild-users-group = nixjail-no-such-group\nstore = auto\n");
    NixSetup s = readNixSetup(tools);
    EXPECT_EQ(s.nix_build, (tools.bin_dir / "nix-build").string());
    EXPECT_EQ(s.store, "auto");
    EXPECT_EQ(s.build_users_group, "nixjail-no-such-group");
    EXPECT_FALSE(s.build_users);
    EXPECT_EQ(s.not_writable, "");  // the state directory is ours to create
    EXPECT_EQ(s.daemon_socket, (dir.path() / "state/daemon-socket/socket").string());
    EXPECT_FALSE(s.daemon_socket_exists);
    s.root = true;  // what root would be told, whoever runs the test
    const auto problem = nixBuildProblem(s);
    ASSERT_TRUE(problem);
    EXPECT_TRUE(has(*problem, "the group 'nixjail-no-such-group' named by Nix's build-users-group "
                              "does not exist"))
        << *problem;
}

TEST(ReadNixSetup, NoNixBuildInTheBinDirectory) {
    base::TempDir dir("nixjail-preflight-test-");
    NixTools tools;
    tools.bin_dir = dir.path();
    const auto problem = nixBuildProblem(readNixSetup(tools));
    ASSERT_TRUE(problem);
    EXPECT_TRUE(has(*problem, "there is no nix-build in '" + dir.path().string() + "'")) << *problem;
}

TEST(ReadNixSetup, FailingShowConfigIsReported) {
    base::TempDir dir("nixjail-preflight-test-");
    const NixTools tools = standInNix(dir, "");
    base::writeFile(tools.bin_dir / "nix", "#!/bin/sh\necho 'error: bad nix.conf' >&2\nexit 1\n");
    const auto problem = nixBuildProblem(readNixSetup(tools));
    ASSERT_TRUE(problem);
    EXPECT_TRUE(has(*problem, "cannot read Nix's settings (nix show-config): exit 1: error: bad "
                              "nix.conf"))
        << *problem;
}

// The real Nix, with NIX_CONFIG naming a group that does not exist: what a fresh Debian with
// nix-bin alone looked like to root.
TEST(CheckNixCanBuild, RealNixWithAMissingBuildUsersGroupStopsWithTheFix) {
    NixTools probe;
    if (readNixSetup(probe).nix_build.empty()) {
        const char* strict = std::getenv("NIXJAIL_TESTS_STRICT");
        if (strict && std::string(strict) == "1") FAIL() << "needs Nix: no nix-build in PATH";
        GTEST_SKIP() << "needs Nix: no nix-build in PATH";
    }
    base::TempDir dir("nixjail-preflight-test-");
    NixTools tools;
    tools.env = {"NIX_CONFIG=build-users-group = nixjail-no-such-group\nstore = auto",
                 "NIX_STATE_DIR=" + (dir.path() / "state").string()};
    NixSetup s = readNixSetup(tools);
    EXPECT_EQ(s.build_users_group, "nixjail-no-such-group");
    EXPECT_EQ(s.store, "auto");
    if (::getuid() != 0) {
        s.root = true;  // what root, who may write the store, would be told
        s.not_writable.clear();
        ASSERT_TRUE(nixBuildProblem(s));
        EXPECT_TRUE(has(*nixBuildProblem(s), "'nixjail-no-such-group'")) << *nixBuildProblem(s);
        return;
    }
    try {
        checkNixCanBuild(tools);
        ADD_FAILURE() << "expected the missing group to stop the check";
    } catch (const base::Error& e) {
        EXPECT_TRUE(has(e.what(), "Nix cannot build: the group 'nixjail-no-such-group' named by "
                                  "Nix's build-users-group does not exist"))
            << e.what();
        EXPECT_TRUE(has(e.what(), "apt-get install nix-bin nix-setup-systemd")) << e.what();
    }
    // The machine's own setting (install-deps creates the build users) passes.
    EXPECT_NO_THROW(checkNixCanBuild(NixTools{}));
}

}  // namespace
}  // namespace nixjail::cache
