// A job's network as the runner builds it (its namespace and proxy) with a jail of the attack
// backend prepared in it: the set-up of every attack that runs from a jailed step against the
// network side (the proxy, the runner's servers, host listeners).
#pragma once

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "executor/namespace/test_root.h"
#include "runner/network/job_network.h"
#include "tests/security/attack_backend.h"

namespace nixjail::executor::testing {

class JailInJobNetwork {
  public:
    // `name` tells the jail's cgroup and the proxy's job id apart; the CA goes under `dir`.
    JailInJobNetwork(const NamespaceExecutor& ns, const runner::network::NetworkSettings& settings,
                     const std::string& name, const std::filesystem::path& dir)
        : executor_(makeAttackExecutor()),
          root_(std::make_unique<TestRoot>(ns)),
          network_(std::make_unique<runner::network::JobNetwork>(
              settings, runner::network::JobNetworkSpec{.job_id = name,
                                                        .forge_hosts = {},
                                                        .ca_dir_host = dir / "network",
                                                        .ca_dir_jail = "/runner/network"})) {
        auto spec = root_->spec("security-" + name + "-" + std::to_string(::getpid()) + "-" +
                                std::to_string(std::random_device{}()));
        spec.netns_fd = network_->netnsFd();
        jail_ = executor_->prepare(spec);
    }

    const std::filesystem::path& workspace() const { return root_->workspace(); }
    runner::network::JobNetwork& network() { return *network_; }

    // Runs `command` with bash in the jail, in /workspace; returns its stdout and stderr, merged.
    std::string sh(const std::string& command, std::vector<std::string> env,
                   std::chrono::seconds timeout = std::chrono::seconds(30)) {
        StepInvocation step;
        step.argv = {"bash", "-c", command};
        step.env = std::move(env);
        step.cwd = "/workspace";
        step.timeout = timeout;
        std::string out;
        step.on_output = [&out](std::string_view s) { out.append(s); };
        auto r = jail_->run(step);
        EXPECT_EQ(r.setup_error, "");
        return out;
    }

  private:
    std::unique_ptr<Executor> executor_;
    std::unique_ptr<TestRoot> root_;
    std::unique_ptr<runner::network::JobNetwork> network_;
    std::unique_ptr<Jail> jail_;  // last: released before the network and the root
};

}  // namespace nixjail::executor::testing
