// ArtifactServer: the v3 pipelines artifact routes over ArtifactStore and the v4 ResultsService
// over ZipArtifactStore, served by an http::Server (one io thread, a coroutine per connection),
// authorised by bearer token (v4 blobs: by URL signature).
#include "runner/artifact_server/artifact_server.h"

#include <fmt/format.h>

#include <charconv>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "runner/artifact_server/artifact_store.h"
#include "runner/artifact_server/item_path.h"
#include "runner/artifact_server/results_service.h"
#include "runner/artifact_server/zip_artifact_store.h"
#include "runner/base/error.h"
#include "runner/http/connection.h"
#include "runner/http/request_parts.h"
#include "runner/http/server.h"

namespace nixjail::runner::artifact_server {

using asio::awaitable;
using Json = nlohmann::json;

namespace {

constexpr std::string_view kWorkflows = "_apis/pipelines/workflows/";
constexpr std::size_t kMaxJsonBody = 64 * 1024;

// A route: its kind, the run id and what follows the run id (already %-decoded).
struct Route {
    enum Kind { kArtifacts, kUpload, kDownload, kFile } kind;
    std::string run;
    std::string rest;
};

std::optional<Route> parseRoute(std::string_view path) {
    if (!path.starts_with('/')) return std::nullopt;
    path.remove_prefix(1);
    auto decoded = percentDecode(path);
    if (!decoded) return std::nullopt;
    std::string_view p = *decoded;
    auto take = [&](std::string_view prefix) {
        if (!p.starts_with(prefix)) return false;
        p.remove_prefix(prefix.size());
        return true;
    };
    Route r{};
    if (take(kWorkflows)) {
        const auto slash = p.find('/');
        if (slash == std::string_view::npos || p.substr(slash) != "/artifacts") return std::nullopt;
        r.kind = Route::kArtifacts;
        r.run = std::string(p.substr(0, slash));
        return r;
    }
    if (take("upload/") || take("download/")) {
        r.kind = decoded->starts_with("upload/") ? Route::kUpload : Route::kDownload;
        r.run = std::string(p);
        return r;
    }
    if (take("artifact/")) {
        const auto slash = p.find('/');
        if (slash == std::string_view::npos) return std::nullopt;
        r.kind = Route::kFile;
        r.run = std::string(p.substr(0, slash));
        r.rest = std::string(p.substr(slash + 1));
        return r;
    }
    return std::nullopt;
}

// The total of "bytes a-b/total"; nullopt for "*" or anything else.
std::optional<std::uint64_t> totalOf(std::string_view content_range) {
    const auto slash = content_range.rfind('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const std::string_view digits = content_range.substr(slash + 1);
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size())
        return std::nullopt;
    return v;
}

}  // namespace

struct ArtifactServer::Impl {
    explicit Impl(ArtifactServerConfig c)
        : config(std::move(c)),
          quota(std::make_shared<ArtifactQuota>(config.budget_bytes)),
          store(config.dir, quota),
          zip_store(config.dir, quota),
          results(zip_store, store, config.signed_url_ttl, config.logger) {
        http_server = std::make_unique<http::Server>(
            "the artifact server", config.bind_address, config.port,
            [this](const http::RequestHead& head, http::RequestBody& body) {
                return handle(head, body);
            });
    }

    // The run the request's bearer token may touch.
    std::optional<std::string> runOf(const http::RequestHead& head) {
        const auto token = http::bearerToken(head);
        if (!token) return std::nullopt;
        std::lock_guard lock(tokens_mu);
        auto it = tokens.find(*token);
        if (it == tokens.end()) return std::nullopt;
        return it->second;
    }

    // The base URL as the client reached us (through a proxy, by a pinned name).
    std::string baseOf(const http::RequestHead& head) const {
        return http::baseUrlOf(head, fallbackUrl());
    }

    std::string fallbackUrl() const {
        return fmt::format("http://{}:{}/", config.bind_address, http_server->port());
    }

    awaitable<http::Response> handle(const http::RequestHead& head, http::RequestBody& body) {
        const std::string path(http::pathWithoutQuery(head.target));
        if (ResultsService::handles(path)) {
            const auto token_run = runOf(head);
            const std::string base = baseOf(head);
            co_return co_await results.handle(head, body, token_run, base);
        }
        auto route = parseRoute(path);
        if (!route) co_return http::jsonError(404, "no such artifact API: " + path);
        auto run = runOf(head);
        if (!run)
            co_return http::jsonError(401,
                                      "missing or unknown bearer token (ACTIONS_RUNTIME_TOKEN)");
        if (route->run != *run)
            co_return http::jsonError(
                403, "this token may not touch the artifacts of run " + route->run);
        // co_await is not allowed inside a catch block: the handler only records the answer.
        http::Response failure;
        try {
            const std::string base = baseOf(head);
            const std::string& m = head.method;
            switch (route->kind) {
                case Route::kArtifacts:
                    if (m == "POST") co_return co_await create(body, *run, base);
                    if (m == "PATCH") co_return co_await finalize(head, body, *run);
                    if (m == "GET") co_return list(*run, base);
                    break;
                case Route::kUpload:
                    if (m == "PUT") co_return co_await upload(head, body, *run);
                    break;
                case Route::kDownload:
                    if (m == "GET") co_return items(head, *run, base);
                    break;
                case Route::kFile:
                    if (m == "GET" || m == "HEAD") co_return file(head, *run, route->rest);
                    break;
            }
            co_return http::jsonError(405, "method " + m + " is not allowed on " + path);
        } catch (const ArtifactRefused& e) {
            failure = http::jsonError(e.status(), e.what());
        } catch (const std::exception& e) {
            // A bug or a broken disk must cost this request, never the server.
            if (config.logger)
                config.logger->debug("artifacts: {} {} failed: {}", head.method, path, e.what());
            failure = http::jsonError(500, e.what());
        }
        co_return failure;
    }

    static Json containerJson(std::uint64_t id, const std::string& name, const std::string& type,
                              const std::string& resource_url, const std::string& base,
                              const std::string& run) {
        return Json{{"containerId", id},
                    {"size", -1},
                    {"signedContent", nullptr},
                    {"fileContainerResourceUrl", resource_url},
                    {"type", type},
                    {"name", name},
                    {"url", fmt::format("{}{}{}/artifacts/{}", base, kWorkflows, run,
                                        percentEncodePath(name))}};
    }

    awaitable<http::Response> create(http::RequestBody& body, const std::string& run,
                                     const std::string& base) {
        auto text = co_await http::readSmallBody(body, kMaxJsonBody);
        Json j = text ? Json::parse(*text, nullptr, false) : Json();
        if (!j.is_object() || !j.contains("Name") || !j["Name"].is_string()) {
            co_return http::jsonError(400,
                                      "creating an artifact needs a JSON body {Type, Name} of at "
                                      "most 64 KiB");
        }
        const std::string name = j["Name"].get<std::string>();
        const std::string type = j.contains("Type") && j["Type"].is_string()
                                     ? j["Type"].get<std::string>()
                                     : "actions_storage";
        if (zip_store.has(run, name)) {
            co_return http::jsonError(409, "an artifact named '" + name +
                                               "' was uploaded with the v4 API in this run; choose "
                                               "another name");
        }
        const auto id = store.create(run, name);
        co_return http::jsonOk(containerJson(id, name, type, base + "upload/" + run, base, run));
    }

    awaitable<http::Response> upload(const http::RequestHead& head, http::RequestBody& body,
                                     const std::string& run) {
        auto item = http::queryParam(head.target, "itemPath");
        if (!item)
            co_return http::jsonError(400, "upload needs ?itemPath=<artifact name>/<file path>");
        const auto* ce = http::findHeader(head.headers, "Content-Encoding");
        const bool gzip = ce && http::equalsIgnoreCase(ce->value, "gzip");
        // Without Content-Range the body is the whole file; "bytes 0--1/0" is an empty file.
        std::uint64_t first = 0;
        std::optional<std::uint64_t> want, total;
        if (const auto* cr = http::findHeader(head.headers, "Content-Range")) {
            if (auto range = http::parseContentRange(cr->value)) {
                first = range->first;
                want = range->last - range->first + 1;
                total = totalOf(cr->value);
            } else if (cr->value.ends_with("/0")) {
                want = total = 0;
            } else {
                co_return http::jsonError(
                    400, "bad Content-Range '" + cr->value + "': want 'bytes a-b/total'");
            }
        }
        store.write(run, *item, first, {}, gzip, total);  // checks the path, creates the file
        std::uint64_t offset = first;
        std::string piece;
        while (co_await body.next(piece)) {
            if (want && offset + piece.size() > first + *want)
                co_return http::jsonError(400, "chunk body is longer than its Content-Range");
            store.write(run, *item, offset, piece, gzip);
            offset += piece.size();
            piece.clear();
        }
        if (!body.decoder.done())
            co_return http::jsonError(400, "chunk body ended early: " + body.decoder.error());
        if (want && offset - first != *want) {
            co_return http::jsonError(
                400, fmt::format("chunk body has {} bytes but its Content-Range says {}",
                                 offset - first, *want));
        }
        co_return http::jsonOk(Json{{"path", *item}, {"itemType", "file"}, {"fileLength", offset}});
    }

    awaitable<http::Response> finalize(const http::RequestHead& head, http::RequestBody& body,
                                       const std::string& run) {
        auto name = http::queryParam(head.target, "artifactName");
        if (!name) co_return http::jsonError(400, "finalizing needs ?artifactName=<name>");
        auto text = co_await http::readSmallBody(body, kMaxJsonBody);
        Json j = text && !text->empty() ? Json::parse(*text, nullptr, false) : Json::object();
        if (!j.is_object()) co_return http::jsonError(400, "finalizing needs a JSON body {Size}");
        store.finalize(run, *name);
        co_return http::jsonOk(Json{{"name", *name}, {"size", j.value("Size", Json(-1))}});
    }

    http::Response list(const std::string& run, const std::string& base) {
        Json value = Json::array();
        for (const auto& name : store.finalized(run)) {
            value.push_back(
                containerJson(0, name, "actions_storage", base + "download/" + run, base, run));
        }
        return http::jsonOk(Json{{"count", value.size()}, {"value", value}});
    }

    http::Response items(const http::RequestHead& head, const std::string& run,
                         const std::string& base) {
        auto item = http::queryParam(head.target, "itemPath");
        if (!item || item->empty())
            return http::jsonError(400, "listing files needs ?itemPath=<artifact name>");
        const auto slash = item->find('/');
        const std::string name = item->substr(0, slash);
        const std::string prefix = slash == std::string::npos ? name + "/" : *item + "/";
        Json value = Json::array();
        for (const auto& f : store.files(run, name)) {
            if (!f.path.starts_with(prefix)) continue;
            value.push_back(Json{
                {"path", f.path},
                {"itemType", "file"},
                {"status", "created"},
                {"fileLength", f.size},
                {"contentLocation", base + "artifact/" + run + "/" + percentEncodePath(f.path)}});
        }
        return http::jsonOk(Json{{"count", value.size()}, {"value", value}});
    }

    http::Response file(const http::RequestHead& head, const std::string& run,
                        const std::string& item_path) {
        auto opened = store.open(run, item_path);
        http::Response r{200, "", "application/octet-stream"};
        r.extra = "Content-Type: application/octet-stream\r\n";
        if (opened.gzip) r.extra += "Content-Encoding: gzip\r\n";
        r.first = 0;
        r.length = opened.size;
        r.file = std::move(opened.fd);
        r.head_only = head.method == "HEAD";
        return r;
    }

    ArtifactServerConfig config;
    std::shared_ptr<ArtifactQuota> quota;  // shared by both stores: one budget for the run
    ArtifactStore store;
    ZipArtifactStore zip_store;
    ResultsService results;
    std::mutex tokens_mu;
    std::unordered_map<std::string, std::string> tokens;  // token -> run id
    // Last: it stops serving before anything its handler uses goes.
    std::unique_ptr<http::Server> http_server;
};

ArtifactServer::ArtifactServer(ArtifactServerConfig config)
    : impl_(std::make_unique<Impl>(std::move(config))) {}

ArtifactServer::~ArtifactServer() = default;

void ArtifactServer::authorize(const base::Secret& token, const std::string& run_id) {
    if (token.reveal().empty()) throw base::Error("the artifact server token must not be empty");
    if (!isSafeName(run_id) || run_id == "v4") {
        throw base::Error("run id '" + run_id +
                          "' cannot name an artifact directory (\"v4\" holds the v4 artifacts)");
    }
    std::lock_guard lock(impl_->tokens_mu);
    impl_->tokens[token.reveal()] = run_id;
}

void ArtifactServer::revoke(const base::Secret& token) {
    std::lock_guard lock(impl_->tokens_mu);
    impl_->tokens.erase(token.reveal());
}

std::uint16_t ArtifactServer::port() const { return impl_->http_server->port(); }

std::string ArtifactServer::baseUrl() const { return impl_->fallbackUrl(); }

}  // namespace nixjail::runner::artifact_server
