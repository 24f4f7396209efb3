// Real Nix: the fixture package set is built, its closure walked, and a root built from it runs
// curl as the `runner` user in a chroot holding nothing but the closure.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>

#include "runner/base/error.h"
#include "runner/base/temp_dir.h"
#include "tests/integration/btrfs_loop.h"
#include "tests/integration/require.h"
#include "workspace-cache/closure.h"
#include "workspace-cache/command_output.h"
#include "workspace-cache/root_cache.h"

namespace nixjail::cache {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Single-user store as root, no sandbox (the builders read host binaries), no network.
NixTools testNixTools() { return {{}, {"NIX_CONFIG=substituters =\nsandbox = false\n"}}; }

std::string fixtureSet() { return std::string(NIXJAIL_FIXTURES_DIR) + "/nix/default.nix"; }

long msSince(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

struct ChrootRun {
    int exit_code = -1;
    std::string out;
};

// Runs `script` with the root's /bin/sh, chrooted into `root`, as uid/gid 1000.
ChrootRun runInRoot(const fs::path& root, const std::string& path_env, const std::string& script) {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(fds[1], 1);
        ::dup2(fds[1], 2);
        std::string path = "PATH=" + path_env;
        const char* envp[] = {path.c_str(), "HOME=/home/runner", nullptr};
        if (::chroot(root.c_str()) == 0 && ::chdir("/") == 0 && ::setgroups(0, nullptr) == 0 &&
            ::setgid(1000) == 0 && ::setuid(1000) == 0)
            ::execle("/bin/sh", "sh", "-c", script.c_str(), nullptr, envp);
        ::_exit(127);
    }
    ::close(fds[1]);
    ChrootRun r;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
        r.out.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

class NixRootTest : public ::testing::Test {
  protected:
    void SetUp() override {
        CommandOutput v;
        try {
            v = runCommand({"nix-store", "--version"}, {});
        } catch (const base::Error& e) {
            v.err = e.what();
        }
        NIXJAIL_REQUIRE(v.exit_code == 0, "needs Nix (apt install nix-bin): " + v.err);
        // A fresh nix-bin has no /nix/var/nix/db yet; root creates it on first use.
        NIXJAIL_REQUIRE(::geteuid() == 0 || ::access("/nix/var/nix/db", W_OK) == 0,
                        "needs a writable single-user Nix store (/nix/var/nix/db); run as root");
        // Roots go on btrfs when we can make one, as in production; on the copy backend otherwise.
        if (nixjail::testing::BtrfsLoopMount::unavailableReason().empty()) {
            mount_ = std::make_unique<nixjail::testing::BtrfsLoopMount>(512ull << 20);
            cache_dir_ = mount_->mountPoint() / "roots";
        } else {
            cache_dir_ = tmp_.path() / "roots";
        }
        storage_ = detectStorage(cache_dir_.parent_path());
    }

    base::TempDir tmp_{"nixjail-nix-test-"};
    std::unique_ptr<nixjail::testing::BtrfsLoopMount> mount_;
    fs::path cache_dir_;
    std::unique_ptr<Storage> storage_;
    PackageResolver resolver_{fixtureSet(), testNixTools()};
};

TEST_F(NixRootTest, ResolvesPackagesToStorePathsInTheirOrder) {
    auto t0 = Clock::now();
    auto paths = resolver_.resolvePackages({"bash", "curl", "bash"});
    long first_ms = msSince(t0);
    ASSERT_EQ(paths.size(), 3u);
    EXPECT_TRUE(paths[0].starts_with("/nix/store/") && paths[0].ends_with("-nixjail-test-bash"))
        << paths[0];
    EXPECT_TRUE(paths[1].ends_with("-nixjail-test-curl")) << paths[1];
    EXPECT_EQ(paths[2], paths[0]);
    EXPECT_EQ(resolver_.resolvePackages({"curl"}), std::vector<std::string>{paths[1]});
    RecordProperty("first_resolve_ms", std::to_string(first_ms));
    EXPECT_LT(first_ms, 60000) << "first build of the fixture set must stay well under a minute";
}

TEST_F(NixRootTest, UnknownPackageFailsNamingIt) {
    try {
        resolver_.resolvePackages({"bash", "no-such-package"});
        FAIL() << "resolved a package that does not exist";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("'no-such-package'"), std::string::npos) << e.what();
    }
}

TEST_F(NixRootTest, ClosureWalkMatchesNixStoreAndHasRealReferences) {
    auto roots = resolver_.resolvePackages({"bash", "curl", "coreutils"});
    NixStoreReferenceSource source(testNixTools());
    auto walked = computeClosure(roots, source);
    EXPECT_EQ(walked, source.closureOf(roots));
    ASSERT_EQ(walked.size(), 4u);  // bash, curl, coreutils and the libs they share
    auto refs = source.references(roots[1]);
    ASSERT_EQ(refs.size(), 1u);
    EXPECT_TRUE(refs[0].ends_with("-nixjail-test-libs")) << refs[0];
    EXPECT_EQ(closureKey(walked), closureKey(source.closureOf({roots[2], roots[0], roots[1]})));
}

TEST_F(NixRootTest, RootRunsCurlAsRunnerWithOnlyItsClosure) {
    NIXJAIL_REQUIRE(::geteuid() == 0, "needs root to chroot into the built root");
    NixStoreReferenceSource source(testNixTools());
    auto closure = computeClosure(resolver_.resolvePackages({"bash", "curl", "coreutils"}), source);
    RootCache cache(*storage_, cache_dir_);

    auto t0 = Clock::now();
    std::string key;
    {
        RootLease cold = cache.acquire(closure);
        long cold_ms = msSince(t0);
        EXPECT_FALSE(cold.hit());
        key = cold.key();
        auto t1 = Clock::now();
        RootLease warm = cache.acquire(closure);
        long warm_ms = msSince(t1);
        EXPECT_TRUE(warm.hit());
        RecordProperty("cold_root_ms", std::to_string(cold_ms));
        RecordProperty("warm_root_ms", std::to_string(warm_ms));
        RecordProperty("storage", std::string(toString(storage_->kind())));

        SubvolumeLease job = warm.snapshotTo(cache_dir_.parent_path() / "job-root");
        ChrootRun r =
            runInRoot(job.path(), warm.binPath(),
                      "id -un; curl --version; ls /nix/store; /usr/bin/env sh -c 'echo env-ok'");
        EXPECT_EQ(r.exit_code, 0) << r.out;
        EXPECT_NE(r.out.find("runner\n"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("curl 7"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("env-ok"), std::string::npos) << r.out;
        for (const auto& p : closure)
            EXPECT_NE(r.out.find(fs::path(p).filename().string()), std::string::npos);
        size_t listed = 0;
        for (size_t at = 0; (at = r.out.find("-nixjail-test-", at)) != std::string::npos; ++at)
            ++listed;
        EXPECT_EQ(listed, closure.size()) << "the root's store holds exactly the closure:\n"
                                          << r.out;
        // curl cannot resolve names: the root has no DNS server (jobs use the proxy).
        ChrootRun net =
            runInRoot(job.path(), warm.binPath(), "curl -sS --max-time 5 http://example.invalid/");
        EXPECT_NE(net.exit_code, 0) << net.out;
    }
    EXPECT_EQ(cache.list().size(), 1u);
    EXPECT_EQ(cache.prune(0), std::vector<std::string>{key});
}

TEST_F(NixRootTest, ClosureWithoutShellIsRefused) {
    NixStoreReferenceSource source(testNixTools());
    auto closure = computeClosure(resolver_.resolvePackages({"hello-data"}), source);
    RootCache cache(*storage_, cache_dir_);
    EXPECT_THROW(cache.acquire(closure), base::Error);
    EXPECT_TRUE(cache.list().empty());
}

}  // namespace
}  // namespace nixjail::cache
