// exec's flags fill the runner's configuration: every flag lands in its field, saved defaults fill
// what the command line left out, and a wrong value is an error naming the flag.
#include "runner/cli/exec_config.h"

#include <gtest/gtest.h>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::runner::cli {
namespace {

config::RunnerConfig translate(ExecFlags flags, const SavedDefaults& saved = {}) {
    return execConfig(withSavedDefaults(std::move(flags), saved), saved);
}

std::string errorOf(ExecFlags flags) {
    try {
        translate(std::move(flags));
    } catch (const base::Error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(ExecConfig, NoFlagsGiveTheBuiltInDefaults) {
    const auto c = translate({});
    EXPECT_EQ(c.executor.backend, "auto");
    EXPECT_EQ(c.executor.profile, "default");
    EXPECT_EQ(c.executor.disk, 0u);
    EXPECT_GE(c.runner.capacity, 2);
    EXPECT_EQ(c.cache.dir, "");
    EXPECT_EQ(c.cache.storage, "auto");
    EXPECT_EQ(c.cache.actions_cache_budget, config::RunnerConfig{}.cache.actions_cache_budget);
    EXPECT_EQ(c.nix.nixpkgs, "") << "empty: found when the run starts";
    EXPECT_TRUE(c.nix.packages.empty());
    EXPECT_EQ(c.proxy.mode, "enforce");
    EXPECT_TRUE(c.proxy.policy.empty());
    EXPECT_TRUE(c.proxy.credentials.empty());
}

TEST(ExecConfig, EveryFlagLandsInItsField) {
    base::TempDir dir("nixjail-exec-config-");
    base::writeFile(dir.path() / "ca.pem", "not checked here\n");
    ExecFlags f;
    f.executor = "namespace";
    f.profile = "strict";
    f.disk = "2G";
    f.max_parallel = 3;
    f.cache_dir = (dir.path() / "cache").string();
    f.storage = "copy";
    f.cache_server_dir = (dir.path() / "ac").string();
    f.nixpkgs = "channel:nixos-24.11";
    f.packages = "bash  coreutils\ngit";
    f.network_audit = true;
    f.policy = (dir.path() / "policy.yaml").string();
    f.extra_ca_file = (dir.path() / "ca.pem").string();
    f.host_overrides = {"forge.example=10.0.0.1", "forge.example=10.0.0.2", "git.example=10.0.0.3:3000"};
    f.secret_hosts = {"API_KEY=api.example,*.cdn.example", "UPLOAD=u.example"};
    f.secret_in_bodies = {"UPLOAD"};
    f.repository_policy = true;
    const auto c = translate(f);
    EXPECT_EQ(c.executor.backend, "namespace");
    EXPECT_EQ(c.executor.profile, "strict");
    EXPECT_EQ(c.executor.disk, 2ull << 30);
    EXPECT_EQ(c.runner.capacity, 3);
    EXPECT_EQ(c.cache.dir, dir.path() / "cache");
    EXPECT_EQ(c.cache.storage, "copy");
    EXPECT_EQ(c.cache.actions_cache_dir, dir.path() / "ac");
    EXPECT_EQ(c.nix.nixpkgs, "channel:nixos-24.11");
    EXPECT_EQ(c.nix.packages, (std::vector<std::string>{"bash", "coreutils", "git"}));
    EXPECT_EQ(c.proxy.mode, "audit");
    EXPECT_EQ(c.proxy.policy, dir.path() / "policy.yaml");
    EXPECT_EQ(c.proxy.extra_ca_file, dir.path() / "ca.pem");
    EXPECT_EQ(c.proxy.host_overrides.at("forge.example"), "10.0.0.1") << "the first one given wins";
    EXPECT_EQ(c.proxy.host_overrides.at("git.example"), "10.0.0.3:3000");
    EXPECT_EQ(c.proxy.secret_hosts.at("API_KEY").hosts, (std::vector<std::string>{"api.example", "*.cdn.example"}));
    EXPECT_FALSE(c.proxy.secret_hosts.at("API_KEY").bodies);
    EXPECT_TRUE(c.proxy.secret_hosts.at("UPLOAD").bodies);
    EXPECT_TRUE(c.proxy.repository_policy);
    ExecFlags unbound;
    unbound.secret_in_bodies = {"NOT_BOUND"};
    EXPECT_THROW(translate(unbound), base::Error);
}

TEST(ExecConfig, NoCacheServerTurnsTheServerOff) {
    ExecFlags f;
    f.no_cache_server = true;
    EXPECT_EQ(translate(f).cache.actions_cache_budget, 0u);
}

TEST(ExecConfig, TheOldJitRuntimeProfileNameIsTheDefault) {
    ExecFlags f;
    f.profile = "jit-runtime";
    EXPECT_EQ(translate(f).executor.profile, "default");
}

TEST(ExecConfig, SavedDefaultsFillWhatTheCommandLineLeftOut) {
    SavedDefaults saved;
    saved.executor = "host";
    saved.profile = "strict";
    saved.packages = "bash";
    saved.nixpkgs = "/srv/nixpkgs";
    saved.cache_dir = "/srv/cache";
    saved.default_packages = {{"ubuntu-*", {"bash", "git"}}};
    auto c = translate({}, saved);
    EXPECT_EQ(c.executor.backend, "host");
    EXPECT_EQ(c.executor.profile, "strict");
    EXPECT_EQ(c.nix.packages, std::vector<std::string>{"bash"});
    EXPECT_EQ(c.nix.nixpkgs, "/srv/nixpkgs");
    EXPECT_EQ(c.cache.dir, "/srv/cache");
    ASSERT_EQ(c.nix.default_packages.size(), 1u);
    EXPECT_EQ(c.nix.default_packages[0].first, "ubuntu-*");

    ExecFlags f;
    f.executor = "namespace";
    f.profile = "default";
    f.packages = "coreutils";
    c = translate(f, saved);
    EXPECT_EQ(c.executor.backend, "namespace") << "the command line wins";
    EXPECT_EQ(c.executor.profile, "default");
    EXPECT_EQ(c.nix.packages, std::vector<std::string>{"coreutils"});
}

TEST(ExecConfig, CredentialFileEntriesKeepWhereTheyWereWritten) {
    base::TempDir dir("nixjail-exec-config-");
    const auto file = dir.path() / "creds.yaml";
    base::writeFile(file,
                    "- name: registry\n  env: REGISTRY_TOKEN\n  hosts: [registry.example]\n"
                    "  header: 'Authorization: Bearer {token}'\n  dummy: fake-registry\n");
    ExecFlags f;
    f.credential_file = file.string();
    const auto c = translate(f);
    ASSERT_EQ(c.proxy.credentials.size(), 1u);
    const auto& cred = c.proxy.credentials[0];
    EXPECT_EQ(cred.name, "registry");
    EXPECT_EQ(cred.env, "REGISTRY_TOKEN");
    EXPECT_EQ(cred.hosts, std::vector<std::string>{"registry.example"});
    EXPECT_EQ(cred.dummy, "fake-registry");
    EXPECT_EQ(cred.origin.rfind(file.string() + ":1:", 0), 0u) << cred.origin;
}

TEST(ExecConfig, AWrongValueNamesItsFlag) {
    ExecFlags f;
    f.profile = "lenient";
    EXPECT_NE(errorOf(f).find("unknown hardening profile 'lenient'; choose default or strict"), std::string::npos);
    f = {};
    f.storage = "zfs";
    EXPECT_NE(errorOf(f).find("--storage"), std::string::npos) << errorOf(f);
    f = {};
    f.disk = "lots";
    EXPECT_NE(errorOf(f).find("--disk"), std::string::npos) << errorOf(f);
    f = {};
    f.extra_ca_file = "/nonexistent/ca.pem";
    EXPECT_NE(errorOf(f).find("--extra-ca-file '/nonexistent/ca.pem'"), std::string::npos) << errorOf(f);
    f = {};
    f.host_overrides = {"no-value"};
    EXPECT_NE(errorOf(f).find("--host-override"), std::string::npos) << errorOf(f);
    f = {};
    f.credential_file = "/nonexistent/creds.yaml";
    EXPECT_NE(errorOf(f).find("/nonexistent/creds.yaml"), std::string::npos) << errorOf(f);
}

TEST(ExecValues, SecretsFromFilesThenFlagsAndTheRunsOtherValues) {
    base::TempDir dir("nixjail-exec-values-");
    base::writeFile(dir.path() / "secrets.env", "TOKEN=from-file\nOTHER=kept\n");
    base::writeFile(dir.path() / "event.json", R"({"inputs": {"name": "x"}})");
    ::setenv("NIXJAIL_EXEC_VALUES_TEST", "from-environment", 1);
    ExecFlags f;
    f.secret_files = {(dir.path() / "secrets.env").string()};
    f.secrets = {"TOKEN=from-flag", "NIXJAIL_EXEC_VALUES_TEST"};
    f.inputs = {"name=y"};
    f.vars = {"REGION=eu"};
    f.envs = {"A=1", "A=2"};
    f.matrix = {"os:linux", "os:mac"};
    f.event_path = (dir.path() / "event.json").string();
    const auto v = execValues(f);
    ::unsetenv("NIXJAIL_EXEC_VALUES_TEST");
    EXPECT_EQ(v.secrets.at("TOKEN"), "from-flag") << "a flag wins over a file";
    EXPECT_EQ(v.secrets.at("OTHER"), "kept");
    EXPECT_EQ(v.secrets.at("NIXJAIL_EXEC_VALUES_TEST"), "from-environment") << "-s K takes $K";
    EXPECT_EQ(v.inputs.at("name"), "y");
    EXPECT_EQ(v.vars.at("REGION"), "eu");
    ASSERT_EQ(v.env.size(), 2u) << "in order, the later applied last";
    EXPECT_EQ(v.env[1].second, "2");
    ASSERT_EQ(v.matrix.size(), 2u);
    EXPECT_EQ(v.matrix[0], (std::pair<std::string, std::string>{"os", "linux"}));
    EXPECT_EQ(v.event["inputs"]["name"], "x");
}

TEST(ExecValues, AnEventFileThatIsNotJsonNamesTheFlag) {
    base::TempDir dir("nixjail-exec-values-");
    base::writeFile(dir.path() / "event.json", "{not json");
    ExecFlags f;
    f.event_path = (dir.path() / "event.json").string();
    try {
        execValues(f);
        ADD_FAILURE() << "accepted";
    } catch (const base::Error& e) {
        EXPECT_NE(std::string(e.what()).find("--eventpath '" + f.event_path + "' is not valid JSON"),
                  std::string::npos)
            << e.what();
    }
    f = {};
    f.matrix = {"no-colon"};
    EXPECT_THROW(execValues(f), base::Error);
}

}  // namespace
}  // namespace nixjail::runner::cli
