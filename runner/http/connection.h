// One HTTP/1.1 connection of the runner's HTTP services: reads request heads (with the proxy's
// fuzzed parser), hands each request and its streaming body to a handler, writes the handler's
// answer (a file body streamed from disk), and keeps the connection while both sides allow it.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "proxy/asio_config.h"
#include "runner/base/unique_fd.h"
#include "runner/http/body_decoder.h"
#include "runner/http/request_head.h"

namespace nixjail::runner::http {

// What a handler answers. Handlers return it and only the connection loop sends it: g++ 12
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

// The request body, decoded as it is read from the socket.
struct RequestBody {
    asio::ip::tcp::socket& sock;
    std::string& buf;  // bytes read past the head
    std::vector<char>& tmp;
    BodyDecoder decoder;
    // "Expect: 100-continue": the client waits for "100 Continue" before sending the body, which
    // next() sends on its first read (a handler that answers without reading sends none).
    bool expects_continue = false;

    // Appends the next decoded bytes to `out`; false at the end of the body or on error.
    asio::awaitable<bool> next(std::string& out);
};

using RequestHandler = std::function<asio::awaitable<Response>(const RequestHead&, RequestBody&)>;

// Serves requests on `sock` until the client or an error closes it; `on_file_bytes` counts
// the bytes of file bodies sent. Malformed heads and framing get 400, oversized heads 431.
asio::awaitable<void> serveConnection(asio::ip::tcp::socket sock, RequestHandler handler,
                                      std::function<void(std::uint64_t)> on_file_bytes);

// Helpers the services' handlers share.
Response jsonOk(const nlohmann::json& j);
// Errors close the connection: the rest of the request body may still be on its way.
Response jsonError(int status, const std::string& message);
// The whole body if it is complete and at most `max_bytes` long.
asio::awaitable<std::optional<std::string>> readSmallBody(RequestBody& body, std::size_t max_bytes);
// The token of `Authorization: Bearer <token>`, if the request has one.
std::optional<std::string> bearerToken(const RequestHead& head);
// "http://<Host>/": the base URL as the client reached the service (through a job's proxy, by a
// pinned name); `fallback` when the request has no Host.
std::string baseUrlOf(const RequestHead& head, const std::string& fallback);

}  // namespace nixjail::runner::http
