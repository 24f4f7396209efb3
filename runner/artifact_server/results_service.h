// The v4 artifact API of the local artifact server, as @actions/artifact 2.x (upload-artifact@v4,
// download-artifact@v4) speaks it:
// - twirp JSON at POST /twirp/github.actions.results.api.v1.ArtifactService/<Method>
//   (CreateArtifact, FinalizeArtifact, ListArtifacts, GetSignedArtifactURL, DeleteArtifact),
//   authorised by the bearer token, each token seeing only its run's artifacts;
// - the signed blob URLs those return, at /artifacts-v4/<run>/<name>?op=&id=&exp=&sig=, which
//   the Azure blob client uses without the token: PUT ...&comp=block&blockid=, PUT
//   ...&comp=blocklist, or one PUT with x-ms-blob-type: BlockBlob; GET for the download. The
//   signature is an HMAC (key random per server) of the operation, run, name, upload id and
//   expiry, so a URL works only for its artifact, its direction and until it expires.
// Private to runner/artifact_server.
#pragma once

#include <spdlog/logger.h>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "runner/artifact_server/artifact_store.h"
#include "runner/artifact_server/zip_artifact_store.h"
#include "runner/http/connection.h"

namespace nixjail::runner::artifact_server {

class ResultsService {
  public:
    ResultsService(ZipArtifactStore& store, const ArtifactStore& v3,
                   std::chrono::seconds signed_url_ttl, std::shared_ptr<spdlog::logger> logger);

    // Whether `path` belongs to this API.
    static bool handles(std::string_view path);

    // `run` is the run of the request's bearer token, if it has a known one; `base` the server's
    // URL as the client reached it ("http://host:port/").
    asio::awaitable<http::Response> handle(const http::RequestHead& head, http::RequestBody& body,
                                           const std::optional<std::string>& run,
                                           const std::string& base);

  private:
    enum class Op { kUpload, kDownload };
    std::string signature(Op op, const std::string& run, const std::string& name, std::uint64_t id,
                          std::int64_t expiry) const;
    std::string signedUrl(Op op, const std::string& base, const std::string& run,
                          const std::string& name, std::uint64_t id) const;

    asio::awaitable<http::Response> twirp(const http::RequestHead& head, http::RequestBody& body,
                                          const std::optional<std::string>& run,
                                          const std::string& base);
    asio::awaitable<http::Response> blob(const http::RequestHead& head, http::RequestBody& body);

    ZipArtifactStore& store_;
    const ArtifactStore& v3_;
    std::chrono::seconds ttl_;
    std::shared_ptr<spdlog::logger> logger_;
    std::array<unsigned char, 32> key_{};
};

}  // namespace nixjail::runner::artifact_server
