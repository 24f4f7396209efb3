// RunnerServices: what exec and the daemon get from one configuration: the servers and their
// pins, the jobs' defaults, the network settings, and where the two roles differ.
#include "runner/services/runner_services.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <unistd.h>

#include <sstream>

#include "runner/artifact_server/artifact_server.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/cache_server/cache_server.h"
#include "tests/integration/require.h"

namespace nixjail::runner::services {
namespace {

namespace fs = std::filesystem;
using Role = ServicesContext::Role;

struct Fixture {
    base::TempDir dir{"nixjail-services-test-"};
    std::ostringstream out;
    std::shared_ptr<spdlog::logger> log =
        std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
    config::RunnerConfig config;

    Fixture() {
        config.source = (dir.path() / "runner.yaml").string();
        config.executor.backend = "host";
        config.cache.dir = dir.path() / "cache";
    }
    // The namespace executor, whose jobs' uid must traverse the directory.
    void jailed() {
        config.executor.backend = "namespace";
        config.nix.nixpkgs = "<nixpkgs>";
        fs::permissions(dir.path(), fs::perms::others_exec, fs::perm_options::add);
    }
    ServicesContext context(Role role) {
        ServicesContext c;
        c.role = role;
        c.default_cache_dir = dir.path() / "default-cache";
        c.log = log;
        c.runner_uuid = "0123-uuid";
        return c;
    }
};

TEST(RunnerServices, JobDefaultsCarryTheConfiguredLimitsProfileAndPackages) {
    Fixture fx;
    fx.config.executor.memory = 1ull << 30;
    fx.config.executor.pids = 128;
    fx.config.executor.cpu_quota = 1.5;
    fx.config.executor.profile = "strict";
    fx.config.nix.packages = {"bash", "git"};
    RunnerServices s(fx.config, fx.context(Role::kExec));
    const auto o = s.jobDefaults();
    EXPECT_EQ(o.executor, &s.executor());
    EXPECT_EQ(o.executor->name(), "host");
    EXPECT_EQ(o.limits.memory_max_bytes, 1ull << 30);
    EXPECT_EQ(o.limits.pids_max, 128u);
    EXPECT_DOUBLE_EQ(o.limits.cpu_quota, 1.5);
    EXPECT_EQ(o.profile, executor::HardeningProfile::kStrict);
    EXPECT_EQ(o.packages, (std::vector<std::string>{"bash", "git"}));
    EXPECT_FALSE(o.root_provider) << "the host executor's jobs get no Nix root";
    EXPECT_TRUE(o.checkout_provider);
    EXPECT_FALSE(s.rootsForTask(nlohmann::json::object()));
}

// Unjailed steps use the host's network, so the servers are reached at their own address; there
// is nothing to pin.
TEST(RunnerServices, TheHostExecutorsJobsReachTheServersDirectly) {
    Fixture fx;
    auto ctx = fx.context(Role::kExec);
    ctx.artifact_dir = fx.dir.path() / "artifacts";
    RunnerServices s(fx.config, ctx);
    ASSERT_TRUE(s.actionsCache());
    ASSERT_TRUE(s.artifacts());
    EXPECT_EQ(s.actionsCacheUrl(), s.actionsCache()->baseUrl());
    EXPECT_EQ(s.artifactsUrl(), s.artifacts()->baseUrl());
    EXPECT_TRUE(fs::is_directory(fx.dir.path() / "cache" / "actions-cache"));
    EXPECT_TRUE(s.jobDefaults().network.service_hosts.empty());
}

TEST(RunnerServices, ABudgetOfZeroStartsNoCacheServer) {
    Fixture fx;
    fx.config.cache.actions_cache_budget = 0;
    RunnerServices s(fx.config, fx.context(Role::kDaemon));
    EXPECT_FALSE(s.actionsCache());
    EXPECT_EQ(s.actionsCacheUrl(), "");
    EXPECT_FALSE(s.artifacts()) << "only exec serves artifacts, when told where";
}

// A cache server that cannot start is a warning for exec (an optimisation) and stops the daemon.
TEST(RunnerServices, ACacheServerThatCannotStartWarnsExecAndStopsTheDaemon) {
    Fixture fx;
    base::writeFile(fx.dir.path() / "not-a-dir", "x");
    fx.config.cache.actions_cache_dir = fx.dir.path() / "not-a-dir" / "cache";
    {
        RunnerServices s(fx.config, fx.context(Role::kExec));
        EXPECT_FALSE(s.actionsCache());
        EXPECT_NE(fx.out.str().find("running without an actions/cache server"), std::string::npos)
            << fx.out.str();
    }
    EXPECT_THROW(RunnerServices(fx.config, fx.context(Role::kDaemon)), base::Error);
}

TEST(RunnerServices, DryRunStartsNothing) {
    Fixture fx;
    auto ctx = fx.context(Role::kExec);
    ctx.dry_run = true;
    ctx.artifact_dir = fx.dir.path() / "artifacts";
    RunnerServices s(fx.config, ctx);
    EXPECT_FALSE(s.actionsCache());
    EXPECT_FALSE(s.artifacts());
    EXPECT_FALSE(fs::exists(fx.dir.path() / "cache"));
}

// The daemon's jobs live in a directory of its own on the cache's filesystem, and it trims the
// caches after jobs; exec's jobs use $TMPDIR unless the cache can share data.
TEST(RunnerServices, TheDaemonKeepsItsJobsInTheCacheDirectory) {
    Fixture fx;
    RunnerServices daemon(fx.config, fx.context(Role::kDaemon));
    EXPECT_EQ(daemon.jobDefaults().work_dir,
              fx.dir.path() / "cache" / "jobs" / "nixjail-daemon-0123-uuid");
    EXPECT_TRUE(fs::is_directory(daemon.jobDefaults().work_dir));
    daemon.trimCaches();
    EXPECT_NE(fx.out.str().find("cache directory '" + (fx.dir.path() / "cache").string()),
              std::string::npos)
        << fx.out.str();
    RunnerServices exec(fx.config, fx.context(Role::kExec));
    EXPECT_EQ(exec.jobDefaults().work_dir, "") << "the host executor's jobs use $TMPDIR";
}

TEST(RunnerServices, NetworkSettingsComeFromTheProxySection) {
    Fixture fx;
    base::writeFile(fx.dir.path() / "ca.pem", "pem");
    base::writeFile(fx.dir.path() / "token", "real-token\n");
    fx.config.proxy.mode = "audit";
    fx.config.proxy.extra_ca_file = fx.dir.path() / "ca.pem";
    fx.config.proxy.host_overrides = {{"forge.example", "10.0.0.1"}};
    fx.config.proxy.credentials.push_back({.name = "registry",
                                           .file = (fx.dir.path() / "token").string(),
                                           .hosts = {"registry.example"},
                                           .header = "Authorization: Bearer {token}",
                                           .dummy = "fake"});
    RunnerServices s(fx.config, fx.context(Role::kDaemon));
    const auto n = s.jobDefaults().network;
    EXPECT_TRUE(n.audit_only);
    EXPECT_EQ(n.extra_upstream_ca_file, fx.dir.path() / "ca.pem");
    EXPECT_EQ(n.host_overrides.at("forge.example"), "10.0.0.1");
    ASSERT_EQ(n.credentials.size(), 1u);
    EXPECT_EQ(n.credentials[0].name, "registry");
}

// A credential whose source is missing names where it was written: the daemon's file and key, or
// exec's credential file line.
TEST(RunnerServices, ACredentialThatCannotBeReadNamesWhereItWasWritten) {
    Fixture fx;
    fx.config.proxy.credentials.push_back({.name = "registry",
                                           .env = "NIXJAIL_TEST_UNSET_TOKEN_VARIABLE",
                                           .hosts = {"registry.example"},
                                           .header = "Authorization: Bearer {token}",
                                           .dummy = "fake"});
    try {
        RunnerServices s(fx.config, fx.context(Role::kDaemon));
        ADD_FAILURE() << "started without the credential's value";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find(fx.config.source + ": proxy.credentials[0]"),
                  std::string::npos)
            << e.what();
    }
    fx.config.proxy.credentials[0].origin = "creds.yaml:1:3";
    try {
        RunnerServices s(fx.config, fx.context(Role::kExec));
        ADD_FAILURE() << "started without the credential's value";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("creds.yaml:1:3"), std::string::npos) << e.what();
    }
}

// Jailed jobs' proxies share one upstream trust, loaded at start: every job gets the same one, and
// an extra CA file that cannot be loaded stops the start (naming it) instead of every job.
TEST(RunnerServices, JailedJobsShareOneUpstreamTrustLoadedAtStart) {
    NIXJAIL_REQUIRE(::geteuid() == 0, "needs root for the namespace executor (euid is not 0)");
    Fixture fx;
    fx.jailed();
    fx.config.cache.actions_cache_budget = 0;  // no cache server: only the network settings matter
    {
        RunnerServices s(fx.config, fx.context(Role::kDaemon));
        ASSERT_TRUE(s.jobDefaults().network.upstream_trust);
        EXPECT_EQ(s.jobDefaults().network.upstream_trust, s.jobDefaults().network.upstream_trust);
    }
    base::writeFile(fx.dir.path() / "ca.pem", "not a certificate\n");
    fx.config.proxy.extra_ca_file = fx.dir.path() / "ca.pem";
    try {
        RunnerServices s(fx.config, fx.context(Role::kDaemon));
        ADD_FAILURE() << "started with an extra CA file that is no certificate";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find((fx.dir.path() / "ca.pem").string()), std::string::npos)
            << e.what();
    }
}

// Jailed jobs reach the runner's servers only through their proxy, by names pinned to the ports.
TEST(RunnerServices, JailedJobsReachTheServersByPinnedNames) {
    NIXJAIL_REQUIRE(::geteuid() == 0, "needs root for the namespace executor (euid is not 0)");
    Fixture fx;
    fx.jailed();
    auto ctx = fx.context(Role::kDaemon);
    ctx.artifact_dir = fx.dir.path() / "artifacts";
    RunnerServices s(fx.config, ctx);
    ASSERT_TRUE(s.actionsCache());
    const std::string cachePort = std::to_string(s.actionsCache()->port());
    const std::string artifactPort = std::to_string(s.artifacts()->port());
    EXPECT_EQ(s.actionsCacheUrl(), "http://actions-cache.nixjail.internal:" + cachePort + "/");
    EXPECT_EQ(s.artifactsUrl(), "http://artifacts.nixjail.internal:" + artifactPort + "/");
    const auto o = s.jobDefaults();
    EXPECT_EQ(o.network.host_overrides.at("actions-cache.nixjail.internal"), "127.0.0.1:" + cachePort);
    EXPECT_EQ(o.network.host_overrides.at("artifacts.nixjail.internal"), "127.0.0.1:" + artifactPort);
    EXPECT_EQ(o.network.service_hosts,
              (std::vector<std::string>{"actions-cache.nixjail.internal", "artifacts.nixjail.internal"}));
    EXPECT_TRUE(o.root_provider) << "jailed jobs get a Nix root";
}

}  // namespace
}  // namespace nixjail::runner::services
