// The HTTP services' connection loop: heads, bodies, keep-alive, streamed file answers.
#include "runner/http/connection.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace nixjail::runner::http {

using asio::ip::tcp;

namespace {

constexpr std::size_t kIoChunk = 256 * 1024;

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
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 409:
            return "Conflict";
        case 413:
            return "Payload Too Large";
        case 412:
            return "Precondition Failed";
        case 416:
            return "Range Not Satisfiable";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 503:
            return "Service Unavailable";
        default:
            return status >= 500 ? "Server Error" : status >= 400 ? "Client Error" : "OK";
    }
}

Response errorResponse(int status, const std::string& message) {
    return Response{status, nlohmann::json{{"message", message}}.dump(), "application/json", false};
}

// Writes the response (streaming a file body from disk in pieces); false when the client left.
asio::awaitable<bool> send(tcp::socket& sock, const Response& r,
                           const std::function<void(std::uint64_t)>& on_file_bytes) {
    const std::uint64_t length = r.file ? r.length : r.body.size();
    std::string out = fmt::format("HTTP/1.1 {} {}\r\nContent-Length: {}\r\n{}{}{}\r\n", r.status,
                                  reason(r.status), length,
                                  r.body.empty() ? "" : "Content-Type: " + r.content_type + "\r\n",
                                  r.extra, r.keep ? "" : "Connection: close\r\n");
    if (!r.file && !r.head_only) out += r.body;
    std::error_code ec;
    co_await asio::async_write(sock, asio::buffer(out),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    if (!r.file || r.head_only) co_return true;
    std::vector<char> chunk(kIoChunk);
    for (std::uint64_t off = r.first, left = r.length; left > 0;) {
        ssize_t n = ::pread(r.file.get(), chunk.data(), std::min<std::uint64_t>(left, chunk.size()),
                            static_cast<off_t>(off));
        if (n <= 0) co_return false;  // the length is already promised: closing tells the client
        co_await asio::async_write(sock, asio::buffer(chunk.data(), static_cast<std::size_t>(n)),
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return false;
        off += static_cast<std::uint64_t>(n);
        left -= static_cast<std::uint64_t>(n);
        on_file_bytes(static_cast<std::uint64_t>(n));
    }
    co_return true;
}

// After an answer sent before the request's body was read (a refused upload): closing with unread
// input makes the kernel send RST, which can destroy the answer before the client reads it, and a
// proxy in between reads the answer only once it has sent the whole body. So half-close, then
// read and drop what the client still sends, bounded.
asio::awaitable<void> lingerAndClose(tcp::socket& sock, std::vector<char>& tmp) {
    constexpr std::uint64_t kMaxDrain = 64ull << 20;  // a whole chunk of actions/cache (32 MiB)
    std::error_code ec;
    sock.shutdown(tcp::socket::shutdown_send, ec);
    for (std::uint64_t drained = 0; !ec && drained < kMaxDrain;) {
        drained += co_await sock.async_read_some(asio::buffer(tmp),
                                                 asio::redirect_error(asio::use_awaitable, ec));
    }
}

}  // namespace

asio::awaitable<bool> RequestBody::next(std::string& out) {
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
        if (expects_continue) {
            expects_continue = false;
            static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
            co_await asio::async_write(sock, asio::buffer(kContinue),
                                       asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return false;
        }
        auto n = co_await sock.async_read_some(asio::buffer(tmp),
                                               asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return false;
        buf.append(tmp.data(), n);
    }
}

asio::awaitable<void> serveConnection(tcp::socket sock, RequestHandler handler,
                                      std::function<void(std::uint64_t)> on_file_bytes) {
    std::string buf;
    std::vector<char> tmp(kIoChunk);
    std::error_code ec;
    for (;;) {
        std::optional<std::size_t> end;
        bool tooLarge = false;
        while (!(end = proxy::http::findHeadEnd(buf))) {
            if (buf.size() > proxy::http::kMaxHeadSize) {
                tooLarge = true;
                break;
            }
            auto n = co_await sock.async_read_some(asio::buffer(tmp),
                                                   asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return;
            buf.append(tmp.data(), n);
        }
        Response r;
        bool keep = false;
        bool unread_body = false;  // the answer goes out before the body was read to its end
        if (tooLarge) {
            r = errorResponse(431, "request head too large");
        } else {
            auto head = proxy::http::parseRequestHead(std::string_view(buf).substr(0, *end));
            buf.erase(0, *end);
            auto framing = head ? proxy::http::requestBodyFraming(*head)
                                : base::Result<BodyFraming, std::string>(BodyFraming{});
            if (!head) {
                r = errorResponse(400, "malformed request: " + head.error());
            } else if (!framing) {
                r = errorResponse(400, "malformed request: " + framing.error());
            } else {
                RequestBody body{sock, buf, tmp, BodyDecoder(*framing)};
                body.expects_continue = buf.empty() && head->version == "HTTP/1.1" &&
                                        headerHasToken(head->headers, "Expect", "100-continue");
                r = co_await handler(*head, body);
                unread_body = !body.decoder.done() && !body.decoder.failed();
                keep = r.keep && body.decoder.done() &&
                       !headerHasToken(head->headers, "Connection", "close") &&
                       head->version == "HTTP/1.1";
            }
        }
        r.keep = keep;
        const bool sent = co_await send(sock, r, on_file_bytes);
        if (sent && unread_body) co_await lingerAndClose(sock, tmp);
        if (!sent || !keep) co_return;
    }
}

Response jsonOk(const nlohmann::json& j) { return Response{200, j.dump()}; }

Response jsonError(int status, const std::string& message) {
    return Response{status, nlohmann::json{{"message", message}}.dump(), "application/json", false};
}

asio::awaitable<std::optional<std::string>> readSmallBody(RequestBody& body,
                                                          std::size_t max_bytes) {
    std::string all, piece;
    while (co_await body.next(piece)) {
        all += piece;
        piece.clear();
        if (all.size() > max_bytes) co_return std::nullopt;
    }
    if (!body.decoder.done()) co_return std::nullopt;
    co_return all;
}

std::optional<std::string> bearerToken(const RequestHead& head) {
    const auto* auth = findHeader(head.headers, "Authorization");
    if (!auth || auth->value.size() < 7 || !equalsIgnoreCase(auth->value.substr(0, 7), "Bearer ")) {
        return std::nullopt;
    }
    return auth->value.substr(7);
}

std::string baseUrlOf(const RequestHead& head, const std::string& fallback) {
    const auto* host = findHeader(head.headers, "Host");
    return host && !host->value.empty() ? "http://" + host->value + "/" : fallback;
}

}  // namespace nixjail::runner::http
