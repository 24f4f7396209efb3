// The daemon reads what the NixOS module writes: each instance's settings from
// tests/nixos/module_eval.nix (evaluated by nix-instantiate, offline, as JSON, which is YAML) go
// through runner/config's parseConfig and come out with the values the options asked for.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "runner/base/child_process.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"
#include "runner/config/runner_config.h"
#include "tests/integration/require.h"

namespace nixjail::runner::config {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

bool haveNixInstantiate() {
    std::string path = env("PATH");
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find(':', start);
        if (end == std::string::npos) end = path.size();
        fs::path dir = path.substr(start, end - start);
        if (!dir.empty() && ::access((dir / "nix-instantiate").c_str(), X_OK) == 0) return true;
        start = end + 1;
    }
    return false;
}

// nix-instantiate --eval --strict --json of module_eval.nix, without a store or a daemon.
nlohmann::json evaluateModule() {
    base::TempDir tmp("nixjail-nixos-config-");
    const fs::path out = tmp.path() / "eval.json", err = tmp.path() / "eval.err";
    base::UniqueFd out_fd(::open(out.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    base::UniqueFd err_fd(::open(err.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    auto child = base::ChildProcess::spawn(
        {.argv = {"nix-instantiate", "--store", "dummy://", "--readonly-mode", "--eval", "--strict",
                  "--json", NIXJAIL_NIXOS_TEST_DIR "/module_eval.nix"},
         .env = {"PATH=" + env("PATH"), "HOME=" + tmp.path().string(),
                 "NIX_CONFIG=substituters =\nsandbox = false\n"},
         .stdout_fd = out_fd.get(),
         .stderr_fd = err_fd.get()});
    auto status = child.wait();
    if (status.exitCode() != 0) {
        ADD_FAILURE() << "nix-instantiate failed on module_eval.nix: " << base::readFile(err);
        return {};
    }
    return nlohmann::json::parse(base::readFile(out));
}

class ModuleConfig : public ::testing::Test {
  protected:
    void SetUp() override {
        NIXJAIL_REQUIRE(haveNixInstantiate(),
                        "needs nix-instantiate on PATH (apt install nix-bin)");
        static const nlohmann::json evaluated = evaluateModule();
        ASSERT_TRUE(evaluated.contains("instances"));
        instances_ = &evaluated.at("instances");
    }

    RunnerConfig parse(const std::string& instance) {
        const std::string text = instances_->at(instance).at("settings").dump(2);
        auto cfg = parseConfig(text, "nixjail-runner-" + instance + ".yaml");
        if (!cfg) {
            ADD_FAILURE() << workflow::formatAll(cfg.error()) << "\n" << text;
            return {};
        }
        return std::move(*cfg);
    }

    const nlohmann::json* instances_ = nullptr;
};

TEST_F(ModuleConfig, EverythingSetIsReadBack) {
    RunnerConfig cfg = parse("ci");
    EXPECT_EQ(cfg.log.level, "info");
    EXPECT_EQ(cfg.runner.file, "/var/lib/nixjail-runner/ci/.runner");
    EXPECT_EQ(cfg.runner.capacity, 2);
    EXPECT_EQ(cfg.runner.fetch_interval, 5s);  // from `settings`, over the typed default
    EXPECT_EQ(cfg.runner.fetch_timeout, 5s);
    EXPECT_EQ(cfg.runner.job_timeout, 3h);
    EXPECT_EQ(cfg.runner.shutdown_timeout, 3min);
    EXPECT_EQ(cfg.runner.labels, (std::vector<std::string>{"nix", "nix-jit"}));
    ASSERT_EQ(cfg.labels.size(), 2u);
    EXPECT_EQ(cfg.labels.at("nix").packages, (std::vector<std::string>{"bash", "coreutils"}));
    EXPECT_EQ(cfg.labels.at("nix").policy, "/etc/nixjail/nix-policy.yaml");
    EXPECT_EQ(cfg.labels.at("nix-jit").profile, "jit-runtime");
    EXPECT_EQ(cfg.cache.dir, "/var/cache/nixjail-runner/ci");
    EXPECT_EQ(cfg.cache.storage, "auto");
    EXPECT_EQ(cfg.cache.git_budget, 10ull << 30);
    EXPECT_EQ(cfg.cache.roots_budget, 20ull << 30);
    EXPECT_EQ(cfg.cache.actions_cache_budget, 10ull << 30);
    EXPECT_EQ(cfg.nix.nixpkgs, "/nix/store/00000000000000000000000000000000-nixpkgs-source");
    EXPECT_EQ(cfg.executor.memory, 8ull << 30);
    EXPECT_EQ(cfg.executor.pids, 4096u);
    EXPECT_DOUBLE_EQ(cfg.executor.cpu_quota, 2.0);
    EXPECT_EQ(cfg.executor.disk, 20ull << 30);
    EXPECT_EQ(cfg.proxy.extra_ca_file, "/etc/ssl/corp-ca.pem");
    ASSERT_EQ(cfg.proxy.credentials.size(), 2u);
    EXPECT_EQ(cfg.proxy.credentials[0].name, "gh");
    EXPECT_EQ(cfg.proxy.credentials[0].env, "GH_TOKEN");
    EXPECT_EQ(cfg.proxy.credentials[1].name, "npm");
    EXPECT_EQ(cfg.proxy.credentials[1].file, "/run/credentials/nixjail-runner-ci.service/cred-npm");
    EXPECT_EQ(cfg.proxy.credentials[1].header, "Authorization: Bearer {token}");
    EXPECT_EQ(cfg.database, "/var/lib/nixjail-runner/ci/jobs.sqlite");
    EXPECT_EQ(cfg.metrics.address, "127.0.0.1:9464");
}

TEST_F(ModuleConfig, DefaultsAreValidAndMetricsAreOff) {
    RunnerConfig cfg = parse("small");
    EXPECT_EQ(cfg.runner.capacity, 1);
    EXPECT_EQ(cfg.runner.fetch_interval, 2s);
    EXPECT_EQ(cfg.cache.dir, "/srv/btrfs/nixjail");
    EXPECT_EQ(cfg.executor.memory, 4ull << 30);
    EXPECT_DOUBLE_EQ(cfg.executor.cpu_quota, 0.0);
    EXPECT_EQ(cfg.executor.disk, 0u);
    EXPECT_TRUE(cfg.proxy.credentials.empty());
    EXPECT_EQ(cfg.metrics.address, "");
}

// What the module's assertions stop at `nixos-rebuild` time, the daemon refuses as well.
TEST_F(ModuleConfig, WhatTheAssertionsRejectTheDaemonRejects) {
    const std::string text = instances_->at("broken").at("settings").dump(2);
    auto cfg = parseConfig(text, "broken.yaml");
    ASSERT_FALSE(cfg.has_value());
    const std::string problems = workflow::formatAll(cfg.error());
    EXPECT_NE(problems.find("runner.capacity"), std::string::npos) << problems;
    EXPECT_NE(problems.find("{token}"), std::string::npos) << problems;
}

}  // namespace
}  // namespace nixjail::runner::config
