// CacheServer: one io thread with a coroutine per connection. Requests are HTTP/1.1 with
// keep-alive; a request whose body was not read to the end closes its connection.
#include "runner/cache_server/cache_server.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "proxy/asio_config.h"
#include "proxy/http_parser.h"
#include "runner/base/error.h"
#include "runner/cache_server/body_decoder.h"
#include "runner/cache_server/request_parts.h"

namespace nixjail::runner::cache_server {

namespace http = proxy::http;
using asio::awaitable;
using asio::ip::tcp;
using Json = nlohmann::json;

namespace {

constexpr std::string_view kApiPrefix = "/_apis/artifactcache/";
constexpr std::size_t kMaxJsonBody = 64 * 1024;
constexpr std::size_t kIoChunk = 256 * 1024;

std::string hex(const unsigned char* p, std::size_t n) {
    std::string out;
    out.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) out += fmt::format("{:02x}", p[i]);
    return out;
}

std::string reason(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 204:
            return "No Content";
        case 206:
            return "Partial Content";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 409:
            return "Conflict";
        case 413:
            return "Payload Too Large";
        case 416:
            return "Range Not Satisfiable";
        case 431:
            return "Request Header Fields Too Large";
        default:
            return "Internal Server Error";
    }
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
            return 500;
    }
    return 500;
}

std::optional<std::uint64_t> parseId(std::string_view s) {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

// What a handler answers. Handlers return it and only the session loop sends it: g++ 12
// mishandles temporaries inside co_await expressions (double destruction).
struct Response {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    bool keep = true;     // false: close the connection after answering
    std::string extra;    // more header lines, each ending in CRLF
    base::UniqueFd file;  // when valid, the body is [first, first+length) of this file
    std::uint64_t first = 0;
    std::uint64_t length = 0;
    bool head_only = false;
};

Response jsonOk(const Json& j) { return Response{200, j.dump()}; }

Response noContent() { return Response{204, "", ""}; }

// Errors close the connection: the rest of the request body may still be on its way.
Response jsonError(int status, const std::string& message) {
    return Response{status, Json{{"message", message}}.dump(), "application/json", false};
}

}  // namespace

struct CacheServer::Impl {
    explicit Impl(CacheServerConfig c)
        : config(std::move(c)),
          store(config.dir, config.budget_bytes, config.upload_idle_limit),
          acceptor(io) {
        if (RAND_bytes(sign_key.data(), static_cast<int>(sign_key.size())) != 1)
            throw base::Error("cannot get random bytes from OpenSSL");
        std::error_code ec;
        auto addr = asio::ip::make_address(config.bind_address, ec);
        if (ec)
            throw base::Error("cache server address '" + config.bind_address +
                              "' is not an IP address");
        tcp::endpoint ep(addr, config.port);
        acceptor.open(ep.protocol(), ec);
        if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec) acceptor.bind(ep, ec);
        if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            throw base::Error(fmt::format("cannot listen for the actions cache server on {}:{}: {}",
                                          config.bind_address, config.port, ec.message()));
        }
        port = acceptor.local_endpoint().port();
        asio::co_spawn(io, accept(), asio::detached);
        thread = std::thread([this] { io.run(); });
    }

    ~Impl() {
        io.stop();
        if (thread.joinable()) thread.join();
    }

    awaitable<void> accept() {
        for (;;) {
            std::error_code ec;
            tcp::socket sock =
                co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
            if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
            if (ec) continue;  // e.g. EMFILE: this client is lost, the server keeps accepting
            asio::co_spawn(io, session(std::move(sock)), asio::detached);
        }
    }

    struct Grant {
        std::string write_scope;
        std::vector<std::string> read_scopes;
        bool canRead(const std::string& scope) const {
            return std::find(read_scopes.begin(), read_scopes.end(), scope) != read_scopes.end();
        }
    };

    std::optional<Grant> grantOf(const http::RequestHead& head) {
        const auto* auth = http::findHeader(head.headers, "Authorization");
        if (!auth || auth->value.size() < 7 ||
            !http::equalsIgnoreCase(auth->value.substr(0, 7), "Bearer ")) {
            return std::nullopt;
        }
        std::lock_guard lock(tokens_mu);
        auto it = tokens.find(auth->value.substr(7));
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

    // One connection: read a head, answer it, repeat while the client keeps the connection.
    awaitable<void> session(tcp::socket sock) {
        std::string buf;
        std::vector<char> tmp(kIoChunk);
        std::error_code ec;
        for (;;) {
            std::optional<std::size_t> end;
            bool tooLarge = false;
            while (!(end = http::findHeadEnd(buf))) {
                if (buf.size() > http::kMaxHeadSize) {
                    tooLarge = true;
                    break;
                }
                auto n = co_await sock.async_read_some(
                    asio::buffer(tmp), asio::redirect_error(asio::use_awaitable, ec));
                if (ec) co_return;
                buf.append(tmp.data(), n);
            }
            Response r;
            bool keep = false;
            if (tooLarge) {
                r = jsonError(431, "request head too large");
            } else {
                auto head = http::parseRequestHead(std::string_view(buf).substr(0, *end));
                buf.erase(0, *end);
                auto framing =
                    head ? http::requestBodyFraming(*head)
                         : base::Result<http::BodyFraming, std::string>(http::BodyFraming{});
                if (!head) {
                    r = jsonError(400, "malformed request: " + head.error());
                } else if (!framing) {
                    r = jsonError(400, "malformed request: " + framing.error());
                } else {
                    Body body{sock, buf, tmp, BodyDecoder(*framing)};
                    r = co_await handle(*head, body);
                    keep = r.keep && body.decoder.done() &&
                           !http::headerHasToken(head->headers, "Connection", "close") &&
                           head->version == "HTTP/1.1";
                }
            }
            r.keep = keep;
            if (!co_await send(sock, r) || !keep) co_return;
        }
    }

    // The request body, decoded as it is read.
    struct Body {
        tcp::socket& sock;
        std::string& buf;  // bytes read past the head
        std::vector<char>& tmp;
        BodyDecoder decoder;

        // Appends the next decoded bytes to `out`; false at the end of the body or on error.
        awaitable<bool> next(std::string& out) {
            for (;;) {
                if (decoder.done() || decoder.failed()) co_return false;
                if (!buf.empty()) {
                    auto used = decoder.consume(buf, out);
                    buf.erase(0, used);
                    if (decoder.failed()) co_return false;
                    if (!out.empty()) co_return true;
                    continue;
                }
                std::error_code ec;
                auto n = co_await sock.async_read_some(
                    asio::buffer(tmp), asio::redirect_error(asio::use_awaitable, ec));
                if (ec) co_return false;
                buf.append(tmp.data(), n);
            }
        }
    };

    awaitable<std::optional<std::string>> readSmallBody(Body& body) {
        std::string all, piece;
        while (co_await body.next(piece)) {
            all += piece;
            piece.clear();
            if (all.size() > kMaxJsonBody) co_return std::nullopt;
        }
        if (!body.decoder.done()) co_return std::nullopt;
        co_return all;
    }

    // Writes the response (streaming a file body from disk in pieces); false when the client left.
    awaitable<bool> send(tcp::socket& sock, const Response& r) {
        const std::uint64_t length = r.file ? r.length : r.body.size();
        std::string out = fmt::format(
            "HTTP/1.1 {} {}\r\nContent-Length: {}\r\n{}{}{}\r\n", r.status, reason(r.status),
            length, r.body.empty() ? "" : "Content-Type: " + r.content_type + "\r\n", r.extra,
            r.keep ? "" : "Connection: close\r\n");
        if (!r.file && !r.head_only) out += r.body;
        std::error_code ec;
        co_await asio::async_write(sock, asio::buffer(out),
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return false;
        if (!r.file || r.head_only) co_return true;
        std::vector<char> chunk(kIoChunk);
        for (std::uint64_t off = r.first, left = r.length; left > 0;) {
            ssize_t n =
                ::pread(r.file.get(), chunk.data(), std::min<std::uint64_t>(left, chunk.size()),
                        static_cast<off_t>(off));
            if (n <= 0)
                co_return false;  // the length is already promised: closing tells the client
            co_await asio::async_write(sock,
                                       asio::buffer(chunk.data(), static_cast<std::size_t>(n)),
                                       asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return false;
            off += static_cast<std::uint64_t>(n);
            left -= static_cast<std::uint64_t>(n);
            store.countDownload(static_cast<std::uint64_t>(n));
        }
        co_return true;
    }

    awaitable<Response> handle(const http::RequestHead& head, Body& body) {
        std::string path(http::pathWithoutQuery(head.target));
        if (!path.starts_with(kApiPrefix)) co_return jsonError(404, "no such API: " + path);
        std::string_view route = std::string_view(path).substr(kApiPrefix.size());
        if (route.starts_with("artifacts/") && (head.method == "GET" || head.method == "HEAD")) {
            co_return download(head, route.substr(10));
        }
        auto grant = grantOf(head);
        if (!grant)
            co_return jsonError(401, "missing or unknown bearer token (ACTIONS_RUNTIME_TOKEN)");
        // co_await is not allowed inside a catch block: the handler only records the answer.
        Response failure;
        try {
            if (route == "cache" && head.method == "GET")
                co_return lookup(head, grant->read_scopes);
            if (route == "caches" && head.method == "POST")
                co_return co_await reserve(body, grant->write_scope);
            if (route.starts_with("caches/")) {
                auto id = parseId(route.substr(7));
                if (!id) co_return jsonError(400, "bad cache id in " + path);
                if (head.method == "PATCH")
                    co_return co_await upload(head, body, grant->write_scope, *id);
                if (head.method == "POST") co_return co_await commit(body, grant->write_scope, *id);
            }
            co_return jsonError(404, "no such API: " + head.method + " " + path);
        } catch (const CacheRefused& e) {
            failure = jsonError(statusFor(e.why()), e.what());
        } catch (const std::exception& e) {
            // A bug or a broken disk must cost this request, never the server.
            if (config.logger)
                config.logger->debug("actions cache: {} {} failed: {}", head.method, path,
                                     e.what());
            failure = jsonError(500, e.what());
        }
        co_return failure;
    }

    Response lookup(const http::RequestHead& head, const std::vector<std::string>& scopes) {
        auto keys = queryParam(head.target, "keys");
        auto version = queryParam(head.target, "version");
        if (!keys || keys->empty() || !version)
            return jsonError(400, "lookup needs ?keys=k1,k2&version=V");
        std::vector<std::string> list;
        for (std::string_view rest = *keys; !rest.empty();) {
            auto comma = rest.find(',');
            if (auto k = rest.substr(0, comma); !k.empty()) list.emplace_back(k);
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        }
        auto hit = store.lookup(scopes, list, *version);
        if (!hit) return noContent();
        // The URL as the client reached us (through a proxy, the address may differ from ours).
        const auto* host = http::findHeader(head.headers, "Host");
        std::string base = host && !host->value.empty()
                               ? "http://" + host->value + "/"
                               : fmt::format("http://{}:{}/", config.bind_address, port);
        return jsonOk(
            Json{{"result", "hit"},
                 {"cacheKey", hit->key},
                 {"scope", hit->scope},
                 {"cacheVersion", hit->version},
                 {"creationTime", hit->created_ms},
                 {"archiveLocation", fmt::format("{}_apis/artifactcache/artifacts/{}?sig={}", base,
                                                 hit->id, signature(hit->scope, hit->id))}});
    }

    awaitable<Response> reserve(Body& body, const std::string& scope) {
        auto text = co_await readSmallBody(body);
        Json j = text ? Json::parse(*text, nullptr, false) : Json();
        if (!j.is_object() || !j.contains("key") || !j["key"].is_string() ||
            !j.contains("version") || !j["version"].is_string()) {
            co_return jsonError(400, "reserve needs a JSON body {key, version, cacheSize}");
        }
        std::uint64_t size = j.contains("cacheSize") && j["cacheSize"].is_number_unsigned()
                                 ? j["cacheSize"].get<std::uint64_t>()
                                 : 0;
        auto id = store.reserve(scope, j["key"].get<std::string>(), j["version"].get<std::string>(),
                                size);
        co_return jsonOk(Json{{"cacheId", id}});
    }

    awaitable<Response> upload(const http::RequestHead& head, Body& body, const std::string& scope,
                               std::uint64_t id) {
        const auto* cr = http::findHeader(head.headers, "Content-Range");
        auto range = cr ? parseContentRange(cr->value) : std::nullopt;
        if (!range) co_return jsonError(400, "upload chunk needs 'Content-Range: bytes a-b/*'");
        const std::uint64_t want = range->last - range->first + 1;
        std::uint64_t offset = range->first;
        std::string piece;
        while (co_await body.next(piece)) {
            if (offset + piece.size() > range->last + 1)
                co_return jsonError(400, "chunk body is longer than its Content-Range");
            store.writeChunk(scope, id, offset, piece);
            offset += piece.size();
            piece.clear();
        }
        if (!body.decoder.done())
            co_return jsonError(400, "chunk body ended early: " + body.decoder.error());
        if (offset - range->first != want) {
            co_return jsonError(400,
                                fmt::format("chunk body has {} bytes but its Content-Range says {}",
                                            offset - range->first, want));
        }
        co_return noContent();
    }

    awaitable<Response> commit(Body& body, const std::string& scope, std::uint64_t id) {
        auto text = co_await readSmallBody(body);
        Json j = text ? Json::parse(*text, nullptr, false) : Json();
        if (!j.is_object() || !j.contains("size") || !j["size"].is_number_unsigned()) {
            co_return jsonError(400, "commit needs a JSON body {size}");
        }
        store.commit(scope, id, j["size"].get<std::uint64_t>());
        co_return noContent();
    }

    Response download(const http::RequestHead& head, std::string_view idText) {
        auto id = parseId(idText);
        auto entry = id ? store.entry(*id) : std::nullopt;
        if (!entry) return jsonError(404, "no cache archive " + std::string(idText));
        // Either a bearer token that may read the entry's scope or the signature from its lookup.
        auto grant = grantOf(head);
        auto sig = queryParam(head.target, "sig");
        const std::string want = signature(entry->scope, *id);
        bool allowed = (grant && grant->canRead(entry->scope)) ||
                       (sig && sig->size() == want.size() &&
                        CRYPTO_memcmp(sig->data(), want.data(), want.size()) == 0);
        if (!allowed) return jsonError(401, "not allowed to read this cache archive");
        auto archive = store.openArchive(*id);
        if (!archive) return jsonError(404, "cache archive was evicted");
        const std::uint64_t size = archive->entry.size;
        Response r{200, "", "application/octet-stream"};
        r.extra = "Accept-Ranges: bytes\r\nContent-Type: application/octet-stream\r\n";
        r.first = 0;
        r.length = size;
        if (const auto* rh = http::findHeader(head.headers, "Range")) {
            if (auto range = parseRange(rh->value, size)) {
                r.status = 206;
                r.first = range->first;
                r.length = range->last - range->first + 1;
                r.extra += fmt::format("Content-Range: bytes {}-{}/{}\r\n", range->first,
                                       range->last, size);
            } else if (size > 0) {
                Response bad = jsonError(416, "unsatisfiable range");
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
    asio::io_context io;
    tcp::acceptor acceptor;
    std::uint16_t port = 0;
    std::thread thread;
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

std::uint16_t CacheServer::port() const { return impl_->port; }

std::string CacheServer::baseUrl() const {
    return fmt::format("http://{}:{}/", impl_->config.bind_address, impl_->port);
}

CacheCounters CacheServer::counters() const { return impl_->store.counters(); }

std::string randomToken() {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        throw base::Error("cannot get random bytes from OpenSSL");
    return hex(bytes, sizeof bytes);
}

}  // namespace nixjail::runner::cache_server
