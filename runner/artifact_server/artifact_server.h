// The runner's local artifact server for `exec --artifact-server-path`, serving both artifact APIs
// at once, so a run may mix action versions:
// - v3, the "pipelines" API that actions/upload-artifact@v3 and download-artifact@v3
//   (@actions/artifact 1.x) speak behind ACTIONS_RUNTIME_URL, backed by an ArtifactStore: files
//   at DIR/<run id>/<name>/<path>;
// - v4, the twirp ArtifactService and signed blob URLs that upload-artifact@v4 and
//   download-artifact@v4 (@actions/artifact 2.x) speak behind ACTIONS_RESULTS_URL (see
//   results_service.h), backed by a ZipArtifactStore: one zip per artifact at
//   DIR/v4/<run id>/<name>.zip. v4 clients read their run id from ACTIONS_RUNTIME_TOKEN as a JWT
//   (runtime_token.h makes such tokens). One name is one artifact per run across both APIs.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "runner/artifact_server/artifact_quota.h"
#include "runner/base/secret.h"

namespace nixjail::runner::artifact_server {

struct ArtifactServerConfig {
    std::filesystem::path dir;  // v3: dir/<run id>/<name>/<path>; v4: dir/v4/<run id>/<name>.zip
    std::string bind_address = "127.0.0.1";
    std::uint16_t port = 0;  // 0: any free port
    // How long the v4 signed upload and download URLs work (negative: already expired, for tests).
    std::chrono::seconds signed_url_ttl = std::chrono::hours(6);
    // The most bytes the server keeps under `dir` (v3 files, v4 blocks, blobs and zips alike; a
    // v4 block list needs room for its blocks and the blob at once). Uploads beyond it fail with
    // 413 and change nothing else; a full disk fails them with 507.
    std::uint64_t budget_bytes = kDefaultArtifactBudget;
    // Where failed requests are logged (at debug; the client gets the message); null = nowhere.
    std::shared_ptr<spdlog::logger> logger;
};

// Owns the listening socket, the stores and one io thread; the destructor stops them (and drops
// v4 uploads never finalized). Every v3 request (file downloads included: @actions/artifact 1.x
// sends the token there too) and every v4 twirp call must carry `Authorization: Bearer <token>`
// with a token given to authorize(), and may only touch that token's run; v4 blob URLs are
// authorised by their signature instead, as Azure's are.
class ArtifactServer {
  public:
    explicit ArtifactServer(ArtifactServerConfig config);
    ~ArtifactServer();
    ArtifactServer(const ArtifactServer&) = delete;
    ArtifactServer& operator=(const ArtifactServer&) = delete;

    // Lets `token` upload and download the artifacts of run `run_id` until revoked. Throws
    // base::Error for an empty token or a run id that cannot name a directory (or is "v4").
    void authorize(const base::Secret& token, const std::string& run_id);
    void revoke(const base::Secret& token);

    std::uint16_t port() const;
    // "http://127.0.0.1:PORT/": the value for ACTIONS_RUNTIME_URL and ACTIONS_RESULTS_URL.
    std::string baseUrl() const;

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace nixjail::runner::artifact_server
