// ResultsService: the twirp JSON methods of ArtifactService and the Azure-style signed blob URLs
// over ZipArtifactStore.
#include "runner/artifact_server/results_service.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <time.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "runner/artifact_server/block_list.h"
#include "runner/artifact_server/item_path.h"
#include "runner/base/error.h"
#include "runner/base/random_bytes.h"
#include "runner/http/request_parts.h"

namespace nixjail::runner::artifact_server {

using asio::awaitable;
using Json = nlohmann::json;

namespace {

constexpr std::string_view kTwirpRoot = "/twirp/";
constexpr std::string_view kTwirpPrefix = "/twirp/github.actions.results.api.v1.ArtifactService/";
constexpr std::string_view kBlobPrefix = "/artifacts-v4/";
constexpr std::size_t kMaxJsonBody = 64 * 1024;
constexpr std::size_t kMaxBlockListBody = 8 * 1024 * 1024;  // 50000 ids of up to 100 bytes

std::int64_t nowUnix() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string rfc3339(std::int64_t unix_seconds) {
    const time_t t = static_cast<time_t>(unix_seconds);
    struct tm tm {};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

template <typename Int>
std::optional<Int> parseInt(std::string_view s) {
    Int v{};
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

// Twirp's error body: {"code": ..., "msg": ...}; the client shows `msg`.
http::Response twirpError(int status, const std::string& message) {
    const char* code = "internal";
    switch (status) {
        case 400:
            code = "invalid_argument";
            break;
        case 401:
            code = "unauthenticated";
            break;
        case 403:
            code = "permission_denied";
            break;
        case 404:
            code = "not_found";
            break;
        case 405:
            code = "bad_route";
            break;
        case 409:
            code = "aborted";
            break;
        case 413:
        case 507:
            code = "resource_exhausted";
            break;
        default:
            break;
    }
    return http::Response{status, Json{{"code", code}, {"msg", message}}.dump(), "application/json",
                          false};
}

std::string xmlEscape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// Azure Storage's error shape, which @azure/storage-blob turns into its RestError message.
http::Response blobError(int status, std::string_view code, const std::string& message) {
    http::Response r{status,
                     fmt::format("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{}</Code>"
                                 "<Message>{}</Message></Error>",
                                 code, xmlEscape(message)),
                     "application/xml", false};
    r.extra = fmt::format("x-ms-error-code: {}\r\n", code);
    return r;
}

std::string_view blobErrorCode(int status) {
    if (status == 403) return "AuthenticationFailed";
    if (status == 404) return "BlobNotFound";
    if (status == 413) return "RequestBodyTooLarge";
    if (status == 507) return "InsufficientStorage";
    return "InvalidInput";
}

// What Put Block / Put Block List / Put Blob answer; the SDK needs no particular header.
http::Response blobCreated() { return http::Response{201, "", ""}; }

// A string field by its proto name or its lowerCamelCase JSON name (protobuf JSON allows both).
std::optional<std::string> stringField(const Json& j, const char* proto, const char* camel) {
    for (const char* key : {proto, camel}) {
        auto it = j.find(key);
        if (it != j.end() && it->is_string()) return it->get<std::string>();
    }
    return std::nullopt;
}

// An int64 field: a JSON string in protobuf JSON, a number from lenient clients.
std::optional<std::uint64_t> int64Field(const Json& j, const char* proto, const char* camel) {
    for (const char* key : {proto, camel}) {
        auto it = j.find(key);
        if (it == j.end()) continue;
        if (it->is_number_unsigned()) return it->get<std::uint64_t>();
        if (it->is_string()) return parseInt<std::uint64_t>(it->get<std::string>());
    }
    return std::nullopt;
}

std::string requireName(const Json& j) {
    auto name = stringField(j, "name", "name");
    if (!name || name->empty()) throw ArtifactRefused(400, "the request needs a non-empty name");
    return *name;
}

}  // namespace

ResultsService::ResultsService(ZipArtifactStore& store, const ArtifactStore& v3,
                               std::chrono::seconds signed_url_ttl,
                               std::shared_ptr<spdlog::logger> logger)
    : store_(store), v3_(v3), ttl_(signed_url_ttl), logger_(std::move(logger)) {
    base::randomBytes(key_.data(), key_.size());
}

bool ResultsService::handles(std::string_view path) {
    return path.starts_with(kTwirpRoot) || path.starts_with(kBlobPrefix);
}

std::string ResultsService::signature(Op op, const std::string& run, const std::string& name,
                                      std::uint64_t id, std::int64_t expiry) const {
    const std::string msg =
        fmt::format("{}\n{}\n{}\n{}\n{}", op == Op::kUpload ? "up" : "down", run, name, id, expiry);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
         reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &len);
    std::string hex;
    for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", out[i]);
    return hex;
}

std::string ResultsService::signedUrl(Op op, const std::string& base, const std::string& run,
                                      const std::string& name, std::uint64_t id) const {
    const std::int64_t expiry = nowUnix() + ttl_.count();
    return fmt::format("{}{}{}/{}?op={}&id={}&exp={}&sig={}", base, kBlobPrefix.substr(1),
                       percentEncodePath(run), percentEncodePath(name),
                       op == Op::kUpload ? "upload" : "download", id, expiry,
                       signature(op, run, name, id, expiry));
}

awaitable<http::Response> ResultsService::handle(const http::RequestHead& head,
                                                 http::RequestBody& body,
                                                 const std::optional<std::string>& run,
                                                 const std::string& base) {
    const std::string_view path = http::pathWithoutQuery(head.target);
    const bool is_twirp = path.starts_with(kTwirpRoot);
    // co_await is not allowed inside a catch block: the handler only records the answer.
    http::Response failure;
    try {
        if (is_twirp) co_return co_await twirp(head, body, run, base);
        co_return co_await blob(head, body);
    } catch (const ArtifactRefused& e) {
        failure = is_twirp ? twirpError(e.status(), e.what())
                           : blobError(e.status(), blobErrorCode(e.status()), e.what());
    } catch (const std::exception& e) {
        // A bug or a broken disk must cost this request, never the server.
        if (logger_) logger_->debug("artifacts v4: {} {} failed: {}", head.method, path, e.what());
        failure = is_twirp ? twirpError(500, e.what()) : blobError(500, "InternalError", e.what());
    }
    co_return failure;
}

awaitable<http::Response> ResultsService::twirp(const http::RequestHead& head,
                                                http::RequestBody& body,
                                                const std::optional<std::string>& run,
                                                const std::string& base) {
    const std::string_view path = http::pathWithoutQuery(head.target);
    if (!path.starts_with(kTwirpPrefix))
        co_return twirpError(404, "no such twirp service: " + std::string(path));
    const std::string method(path.substr(kTwirpPrefix.size()));
    if (head.method != "POST") co_return twirpError(405, "twirp methods are POST only");
    if (!run) co_return twirpError(401, "missing or unknown bearer token (ACTIONS_RUNTIME_TOKEN)");
    if (const auto* ct = http::findHeader(head.headers, "Content-Type");
        ct && !ct->value.starts_with("application/json")) {
        co_return twirpError(400,
                             "this server speaks twirp JSON only (Content-Type: "
                             "application/json), not '" +
                                 ct->value + "'");
    }
    auto text = co_await http::readSmallBody(body, kMaxJsonBody);
    const Json j = text ? Json::parse(*text, nullptr, false) : Json();
    if (!j.is_object())
        co_return twirpError(400,
                             "the request body must be a JSON object of at "
                             "most 64 KiB");
    const auto claimed = stringField(j, "workflow_run_backend_id", "workflowRunBackendId");
    if (!claimed) co_return twirpError(400, "the request needs workflow_run_backend_id");
    if (*claimed != *run) {
        co_return twirpError(403, "this token may not touch the artifacts of run " + *claimed);
    }
    if (method == "CreateArtifact") {
        const std::string name = requireName(j);
        if (auto v = j.find("version"); v != j.end() && !(v->is_number() && *v == 4))
            co_return twirpError(400, "only artifact version 4 is served here");
        if (v3_.has(*run, name)) {
            co_return twirpError(409, "an artifact named '" + name +
                                          "' was uploaded with the v3 "
                                          "API in this run; choose another name");
        }
        const auto job =
            stringField(j, "workflow_job_run_backend_id", "workflowJobRunBackendId").value_or("");
        const auto id = store_.create(*run, name, job);
        co_return http::jsonOk(Json{
            {"ok", true}, {"signed_upload_url", signedUrl(Op::kUpload, base, *run, name, id)}});
    }
    if (method == "FinalizeArtifact") {
        const std::string name = requireName(j);
        const auto size = int64Field(j, "size", "size");
        if (!size) co_return twirpError(400, "FinalizeArtifact needs size (an int64 string)");
        const auto hash = stringField(j, "hash", "hash").value_or("");
        const auto id = store_.finalize(*run, name, *size, hash);
        co_return http::jsonOk(Json{{"ok", true}, {"artifact_id", std::to_string(id)}});
    }
    if (method == "ListArtifacts") {
        std::optional<std::uint64_t> id;
        if (j.contains("id_filter") || j.contains("idFilter")) {
            id = int64Field(j, "id_filter", "idFilter");
            if (!id) co_return twirpError(400, "id_filter must be an int64 string");
        }
        Json artifacts = Json::array();
        for (const auto& a : store_.list(*run, stringField(j, "name_filter", "nameFilter"), id)) {
            Json item{
                {"workflow_run_backend_id", *run},     {"workflow_job_run_backend_id", a.job},
                {"database_id", std::to_string(a.id)}, {"name", a.name},
                {"size", std::to_string(a.size)},      {"created_at", rfc3339(a.created_unix)}};
            if (!a.digest.empty()) item["digest"] = a.digest;
            artifacts.push_back(std::move(item));
        }
        co_return http::jsonOk(Json{{"artifacts", artifacts}});
    }
    if (method == "GetSignedArtifactURL") {
        const std::string name = requireName(j);
        const auto found = store_.list(*run, name);
        if (found.empty())
            co_return twirpError(404, "no finalized artifact '" + name + "' in run " + *run);
        co_return http::jsonOk(
            Json{{"signed_url", signedUrl(Op::kDownload, base, *run, name, found.front().id)}});
    }
    if (method == "DeleteArtifact") {
        const auto id = store_.remove(*run, requireName(j));
        co_return http::jsonOk(Json{{"ok", true}, {"artifact_id", std::to_string(id)}});
    }
    co_return twirpError(404, "ArtifactService has no method '" + method + "'");
}

awaitable<http::Response> ResultsService::blob(const http::RequestHead& head,
                                               http::RequestBody& body) {
    std::string_view path = http::pathWithoutQuery(head.target);
    path.remove_prefix(kBlobPrefix.size());
    const auto slash = path.find('/');
    const auto run = percentDecode(path.substr(0, slash));
    const auto name =
        slash == std::string_view::npos ? std::nullopt : percentDecode(path.substr(slash + 1));
    if (!run || !name || !isSafeName(*run) || !isSafeName(*name))
        co_return blobError(404, "InvalidUri", "no such artifact blob: " + std::string(path));
    const auto op = http::queryParam(head.target, "op");
    const auto id = parseInt<std::uint64_t>(http::queryParam(head.target, "id").value_or(""));
    const auto exp = parseInt<std::int64_t>(http::queryParam(head.target, "exp").value_or(""));
    const auto sig = http::queryParam(head.target, "sig").value_or("");
    const bool upload = head.method == "PUT";
    if (!upload && head.method != "GET" && head.method != "HEAD")
        co_return blobError(405, "UnsupportedHttpVerb", "method " + head.method + " not allowed");
    if (!op || *op != (upload ? "upload" : "download") || !id || !exp) {
        co_return blobError(403, "AuthenticationFailed",
                            "the URL is not a signed " +
                                std::string(upload ? "upload" : "download") +
                                " URL of this server (op, id, exp, sig)");
    }
    const std::string want =
        signature(upload ? Op::kUpload : Op::kDownload, *run, *name, *id, *exp);
    if (sig.size() != want.size() || CRYPTO_memcmp(sig.data(), want.data(), want.size()) != 0)
        co_return blobError(403, "AuthenticationFailed", "bad signature in the artifact URL");
    if (nowUnix() > *exp) {
        co_return blobError(403, "AuthenticationFailed",
                            "the artifact URL expired at " + rfc3339(*exp) +
                                "; ask for a new one (CreateArtifact / GetSignedArtifactURL)");
    }
    if (!upload) {
        auto opened = store_.open(*run, *name, *id);
        http::Response r{200, "", "application/zip"};
        r.extra = "Content-Type: application/zip\r\n";
        r.first = 0;
        r.length = opened.size;
        r.file = std::move(opened.fd);
        r.head_only = head.method == "HEAD";
        co_return r;
    }
    const auto comp = http::queryParam(head.target, "comp");
    if (comp && *comp == "blocklist") {
        auto text = co_await http::readSmallBody(body, kMaxBlockListBody);
        auto ids = text ? parseBlockList(*text) : std::nullopt;
        if (!ids) {
            co_return blobError(
                400, "InvalidXmlDocument",
                "the block list must be <BlockList><Latest>id</Latest>...</BlockList>"
                " of at most 8 MiB");
        }
        store_.commitBlocks(*run, *name, *id, *ids);
        co_return blobCreated();
    }
    std::optional<StagedFile> file;
    if (comp && *comp == "block") {
        const auto block = http::queryParam(head.target, "blockid");
        if (!block)
            co_return blobError(400, "InvalidQueryParameterValue", "comp=block needs blockid");
        file.emplace(store_.stageBlock(*run, *name, *id, *block));
    } else if (comp) {
        co_return blobError(400, "InvalidQueryParameterValue",
                            "comp=" + *comp + " is not served here (block and blocklist are)");
    } else {
        const auto* type = http::findHeader(head.headers, "x-ms-blob-type");
        if (!type || type->value != "BlockBlob") {
            co_return blobError(400, "InvalidHeaderValue",
                                "a PUT without comp= needs x-ms-blob-type: BlockBlob");
        }
        file.emplace(store_.stageBlob(*run, *name, *id));
    }
    std::string piece;
    while (co_await body.next(piece)) {
        try {
            file->write(piece);
        } catch (const ArtifactRefused& e) {
            // Beyond the budget or a full disk: the upload cannot complete, so free what it
            // staged for the other jobs (its client does not retry such a refusal).
            if (e.status() == 413 || e.status() == 507) {
                store_.dropUpload(
                    *run, *name, *id,
                    e.status() == 413 ? "beyond the artifact budget" : "the disk was full");
            }
            throw;
        }
        piece.clear();
    }
    if (!body.decoder.done())
        co_return blobError(400, "InvalidInput", "the body ended early: " + body.decoder.error());
    file->commit();
    co_return blobCreated();
}

}  // namespace nixjail::runner::artifact_server
