// The runner's local artifact server for `exec --artifact-server-path`: the v3 "pipelines"
// artifact API that actions/upload-artifact@v3 and download-artifact@v3 (@actions/artifact 1.x)
// speak, with ACTIONS_RUNTIME_URL pointing at it, backed by an ArtifactStore.
#pragma once

#include <spdlog/logger.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "runner/base/secret.h"

namespace nixjail::runner::artifact_server {

struct ArtifactServerConfig {
    std::filesystem::path dir;  // artifacts land at dir/<run id>/<name>/<path>
    std::string bind_address = "127.0.0.1";
    std::uint16_t port = 0;  // 0: any free port
    // Where failed requests are logged (at debug; the client gets the message); null = nowhere.
    std::shared_ptr<spdlog::logger> logger;
};

// Owns the listening socket, the store and one io thread; the destructor stops them. Every
// request (file downloads included: @actions/artifact sends the token there too) must carry
// `Authorization: Bearer <token>` with a token given to authorize(), and may only touch that
// token's run.
class ArtifactServer {
  public:
    explicit ArtifactServer(ArtifactServerConfig config);
    ~ArtifactServer();
    ArtifactServer(const ArtifactServer&) = delete;
    ArtifactServer& operator=(const ArtifactServer&) = delete;

    // Lets `token` upload and download the artifacts of run `run_id` until revoked.
    void authorize(const base::Secret& token, const std::string& run_id);
    void revoke(const base::Secret& token);

    std::uint16_t port() const;
    // "http://127.0.0.1:PORT/": the value for ACTIONS_RUNTIME_URL.
    std::string baseUrl() const;

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace nixjail::runner::artifact_server
