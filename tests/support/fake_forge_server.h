// FakeForgeServer: runs tests/support/fake_forge.py on 127.0.0.1 for a test and talks to its
// /_admin/ side channel. Destroying it kills the server.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "runner/base/child_process.h"
#include "runner/base/temp_dir.h"

namespace nixjail::tests {

struct FakeForgeOptions {
    std::string dialect = "forgejo";  // or "gitea"
    std::string registration_token = "0123456789abcdef0123456789abcdef01234567";
    // Save the state after every change so start() after stop() is a restart, not a new forge.
    // Off for benchmarks with many jobs (each save rewrites everything).
    bool persist = true;
};

class FakeForgeServer {
  public:
    // Starts the server on an ephemeral port and returns once it accepts connections.
    explicit FakeForgeServer(FakeForgeOptions options = {});
    ~FakeForgeServer();

    int port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

    // Kills the server with SIGKILL (an outage) ...
    void stop();
    // ... and starts it again on the same port with the state it had (a forge restart).
    void start();

    // POST /_admin/<path>; throws on a non-200 reply.
    nlohmann::json admin(const std::string& path,
                         const nlohmann::json& request = nlohmann::json::object());

    // Convenience wrappers over admin().
    int64_t enqueueJob(const std::string& payload_yaml, const std::vector<std::string>& runs_on,
                       nlohmann::json extra = nlohmann::json::object());
    // Block until the task (or the task of a queued job) exists; with final until it has a final
    // result, with sealed also until its log is sealed. Throw after timeout_s.
    nlohmann::json waitTask(int64_t task_id, bool final, double timeout_s = 30);
    nlohmann::json waitJob(int64_t job_id, bool final, bool sealed = false, double timeout_s = 30);
    nlohmann::json state() { return admin("state"); }

  private:
    FakeForgeOptions options_;
    base::TempDir dir_;
    int port_ = 0;
    base::ChildProcess process_;
};

}  // namespace nixjail::tests
