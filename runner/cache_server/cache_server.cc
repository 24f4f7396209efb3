// CacheServer: the artifactcache routes over CacheStore, served by an http::Server (one io thread,
// a coroutine per connection); authorisation by bearer token or signed archive URL.
#include "runner/cache_server/cache_server.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "runner/base/error.h"
#include "runner/base/random_bytes.h"
#include "runner/http/connection.h"
#include "runner/http/request_parts.h"
#include "runner/http/server.h"

namespace nixjail::runner::cache_server {

using asio::awaitable;
using Json = nlohmann::json;

namespace {

constexpr std::string_view kApiPrefix = "/_apis/artifactcache/";
constexpr std::size_t kMaxJsonBody = 64 * 1024;

std::string hex(const unsigned char* p, std::size_t n) {
    std::string out;
    out.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) out += fmt::format("{:02x}", p[i]);
    return out;
}

int statusFor(CacheRefusal why) {
    switch (why) {
        case CacheRefusal::kBadRequest:
            return 400;
        case CacheRefusal::kNotFound:
            return 404;
        case CacheRefusal::kConflict:
            return 409;
        case CacheRefusal::kTooLarge:
            return 400;  // what @actions/cache reads as "cache size exceeded"
        case CacheRefusal::kStorage:
            return 507;  // the disk under the cache directory is full or failing
    }
    return 500;
}

std::optional<std::uint64_t> parseId(std::string_view s) {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

http::Response noContent() { return http::Response{204, "", ""}; }

}  // namespace

struct CacheServer::Impl {
    explicit Impl(CacheServerConfig c)
        : config(std::move(c)), store(config.dir, config.budget_bytes, config.upload_idle_limit) {
        base::randomBytes(sign_key.data(), sign_key.size());
        http_server = std::make_unique<http::Server>(
            "the actions cache server", config.bind_address, config.port,
            [this](const http::RequestHead& head, http::RequestBody& body) {
                return handle(head, body);
            },
            [this](std::uint64_t n) { store.countDownload(n); });
    }

    // What one token's job did with the cache; updated from the io thread, read by the runner.
    class GrantUsage {
      public:
        void record(std::uint64_t hits, std::uint64_t misses, std::uint64_t saved,
                    std::uint64_t restored) {
            std::lock_guard lock(mu_);
            u_.hits += hits;
            u_.misses += misses;
            u_.bytes_saved += saved;
            u_.bytes_restored += restored;
        }
        CacheUsage get() const {
            std::lock_guard lock(mu_);
            return u_;
        }

      private:
        mutable std::mutex mu_;
        CacheUsage u_;
    };

    struct Grant {
        std::string write_scope;
        std::vector<std::string> read_scopes;
        std::shared_ptr<GrantUsage> usage = std::make_shared<GrantUsage>();
        bool canRead(const std::string& scope) const {
            return std::find(read_scopes.begin(), read_scopes.end(), scope) != read_scopes.end();
        }
    };

    std::optional<Grant> grantOf(const http::RequestHead& head) {
        const auto token = http::bearerToken(head);
        if (!token) return std::nullopt;
        std::lock_guard lock(tokens_mu);
        auto it = tokens.find(*token);
        if (it == tokens.end()) return std::nullopt;
        return it->second;
    }

    std::string signature(const std::string& scope, std::uint64_t id) const {
        std::string msg = scope + "\n" + std::to_string(id);
        unsigned char out[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        HMAC(EVP_sha256(), sign_key.data(), static_cast<int>(sign_key.size()),
             reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &len);
        return hex(out, len);
    }

    awaitable<http::Response> handle(const http::RequestHead& head, http::RequestBody& body) {
        std::string path(http::pathWithoutQuery(head.target));
        if (!path.starts_with(kApiPrefix)) co_return http::jsonError(404, "no such API: " + path);
        std::string_view route = std::string_view(path).substr(kApiPrefix.size());
        if (route.starts_with("artifacts/") && (head.method == "GET" || head.method == "HEAD")) {
            co_return download(head, route.substr(10));
        }
        auto grant = grantOf(head);
        if (!grant)
            co_return http::jsonError(401,
                                      "missing or unknown bearer token (ACTIONS_RUNTIME_TOKEN)");
        // co_await is not allowed inside a catch block: the handler only records the answer.
        http::Response failure;
        try {
            if (route == "cache" && head.method == "GET") co_return lookup(head, *grant);
            if (route == "caches" && head.method == "POST")
                co_return co_await reserve(body, grant->write_scope);
            if (route.starts_with("caches/")) {
                auto id = parseId(route.substr(7));
                if (!id) co_return http::jsonError(400, "bad cache id in " + path);
                if (head.method == "PATCH")
                    co_return co_await upload(head, body, grant->write_scope, *id);
                if (head.method == "POST") co_return co_await commit(body, *grant, *id);
            }
            co_return http::jsonError(404, "no such API: " + head.method + " " + path);
        } catch (const CacheRefused& e) {
            failure = http::jsonError(statusFor(e.why()), e.what());
        } catch (const std::exception& e) {
            // A bug or a broken disk must cost this request, never the server.
            if (config.logger)
                config.logger->debug("actions cache: {} {} failed: {}", head.method, path,
                                     e.what());
            failure = http::jsonError(500, e.what());
        }
        co_return failure;
    }

    http::Response lookup(const http::RequestHead& head, const Grant& grant) {
        const std::vector<std::string>& scopes = grant.read_scopes;
        auto keys = http::queryParam(head.target, "keys");
        auto version = http::queryParam(head.target, "version");
        if (!keys || keys->empty() || !version)
            return http::jsonError(400, "lookup needs ?keys=k1,k2&version=V");
        std::vector<std::string> list;
        for (std::string_view rest = *keys; !rest.empty();) {
            auto comma = rest.find(',');
            if (auto k = rest.substr(0, comma); !k.empty()) list.emplace_back(k);
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        }
        auto hit = store.lookup(scopes, list, *version);
        grant.usage->record(hit ? 1 : 0, hit ? 0 : 1, 0, hit ? hit->size : 0);
        if (!hit) return noContent();
        // The URL as the client reached us (through a proxy, the address may differ from ours).
        const std::string base = http::baseUrlOf(head, fallbackUrl());
        return http::jsonOk(
            Json{{"result", "hit"},
                 {"cacheKey", hit->key},
                 {"scope", hit->scope},
                 {"cacheVersion", hit->version},
                 {"creationTime", hit->created_ms},
                 {"archiveLocation", fmt::format("{}_apis/artifactcache/artifacts/{}?sig={}", base,
                                                 hit->id, signature(hit->scope, hit->id))}});
    }

    awaitable<http::Response> reserve(http::RequestBody& body, const std::string& scope) {
        auto text = co_await http::readSmallBody(body, kMaxJsonBody);
        Json j = text ? Json::parse(*text, nullptr, false) : Json();
        if (!j.is_object() || !j.contains("key") || !j["key"].is_string() ||
            !j.contains("version") || !j["version"].is_string()) {
            co_return http::jsonError(400, "reserve needs a JSON body {key, version, cacheSize}");
        }
        std::uint64_t size = j.contains("cacheSize") && j["cacheSize"].is_number_unsigned()
                                 ? j["cacheSize"].get<std::uint64_t>()
                                 : 0;
        auto id = store.reserve(scope, j["key"].get<std::string>(), j["version"].get<std::string>(),
                                size);
        co_return http::jsonOk(Json{{"cacheId", id}});
    }

    awaitable<http::Response> upload(const http::RequestHead& head, http::RequestBody& body,
                                     const std::string& scope, std::uint64_t id) {
        const auto* cr = http::findHeader(head.headers, "Content-Range");
        auto range = cr ? http::parseContentRange(cr->value) : std::nullopt;
        if (!range)
            co_return http::jsonError(400, "upload chunk needs 'Content-Range: bytes a-b/*'");
        const std::uint64_t want = range->last - range->first + 1;
        std::uint64_t offset = range->first;
        std::string piece;
        while (co_await body.next(piece)) {
            if (offset + piece.size() > range->last + 1)
                co_return http::jsonError(400, "chunk body is longer than its Content-Range");
            store.writeChunk(scope, id, offset, piece);
            offset += piece.size();
            piece.clear();
        }
        if (!body.decoder.done())
            co_return http::jsonError(400, "chunk body ended early: " + body.decoder.error());
        if (offset - range->first != want) {
            co_return http::jsonError(
                400, fmt::format("chunk body has {} bytes but its Content-Range says {}",
                                 offset - range->first, want));
        }
        co_return noContent();
    }

    awaitable<http::Response> commit(http::RequestBody& body, const Grant& grant,
                                     std::uint64_t id) {
        const std::string& scope = grant.write_scope;
        auto text = co_await http::readSmallBody(body, kMaxJsonBody);
        Json j = text ? Json::parse(*text, nullptr, false) : Json();
        if (!j.is_object() || !j.contains("size") || !j["size"].is_number_unsigned()) {
            co_return http::jsonError(400, "commit needs a JSON body {size}");
        }
        store.commit(scope, id, j["size"].get<std::uint64_t>());
        grant.usage->record(0, 0, j["size"].get<std::uint64_t>(), 0);
        co_return noContent();
    }

    http::Response download(const http::RequestHead& head, std::string_view idText) {
        auto id = parseId(idText);
        auto entry = id ? store.entry(*id) : std::nullopt;
        if (!entry) return http::jsonError(404, "no cache archive " + std::string(idText));
        // Either a bearer token that may read the entry's scope or the signature from its lookup.
        auto grant = grantOf(head);
        auto sig = http::queryParam(head.target, "sig");
        const std::string want = signature(entry->scope, *id);
        bool allowed = (grant && grant->canRead(entry->scope)) ||
                       (sig && sig->size() == want.size() &&
                        CRYPTO_memcmp(sig->data(), want.data(), want.size()) == 0);
        if (!allowed) return http::jsonError(401, "not allowed to read this cache archive");
        auto archive = store.openArchive(*id);
        if (!archive) return http::jsonError(404, "cache archive was evicted");
        const std::uint64_t size = archive->entry.size;
        http::Response r{200, "", "application/octet-stream"};
        r.extra = "Accept-Ranges: bytes\r\nContent-Type: application/octet-stream\r\n";
        r.first = 0;
        r.length = size;
        if (const auto* rh = http::findHeader(head.headers, "Range")) {
            if (auto range = http::parseRange(rh->value, size)) {
                r.status = 206;
                r.first = range->first;
                r.length = range->last - range->first + 1;
                r.extra += fmt::format("Content-Range: bytes {}-{}/{}\r\n", range->first,
                                       range->last, size);
            } else if (size > 0) {
                http::Response bad = http::jsonError(416, "unsatisfiable range");
                bad.extra = fmt::format("Content-Range: bytes */{}\r\n", size);
                return bad;
            }
        }
        r.file = std::move(archive->fd);
        r.head_only = head.method == "HEAD";
        return r;
    }

    CacheServerConfig config;
    CacheStore store;
    std::array<unsigned char, 32> sign_key{};
    std::mutex tokens_mu;
    std::unordered_map<std::string, Grant> tokens;
    // Last: it stops serving before anything its handler uses goes.
    std::unique_ptr<http::Server> http_server;

    std::string fallbackUrl() const {
        return fmt::format("http://{}:{}/", config.bind_address, http_server->port());
    }
};

CacheServer::CacheServer(CacheServerConfig config)
    : impl_(std::make_unique<Impl>(std::move(config))) {}

CacheServer::~CacheServer() = default;

void CacheServer::authorize(const base::Secret& token, const std::string& scope) {
    authorize(token, scope, {scope});
}

void CacheServer::authorize(const base::Secret& token, const std::string& write_scope,
                            std::vector<std::string> read_scopes) {
    if (token.reveal().empty()) throw base::Error("the actions cache token must not be empty");
    std::lock_guard lock(impl_->tokens_mu);
    impl_->tokens[token.reveal()] = Impl::Grant{write_scope, std::move(read_scopes)};
}

void CacheServer::revoke(const base::Secret& token) {
    std::lock_guard lock(impl_->tokens_mu);
    impl_->tokens.erase(token.reveal());
}

std::uint16_t CacheServer::port() const { return impl_->http_server->port(); }

std::string CacheServer::baseUrl() const { return impl_->fallbackUrl(); }

CacheCounters CacheServer::counters() const { return impl_->store.counters(); }

CacheUsage CacheServer::usage(const base::Secret& token) const {
    std::lock_guard lock(impl_->tokens_mu);
    auto it = impl_->tokens.find(token.reveal());
    return it == impl_->tokens.end() ? CacheUsage{} : it->second.usage->get();
}

}  // namespace nixjail::runner::cache_server
