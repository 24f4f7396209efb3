// http::Server: a request reaches the handler and its answer the client; listen failures.
#include "runner/http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runner/base/unique_fd.h"

namespace nixjail::runner::http {
namespace {

// Sends `request` and reads the answer until the server closes the connection.
std::string exchange(std::uint16_t port, const std::string& request) {
    base::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw base::SysError("connect");
    EXPECT_EQ(::write(fd.get(), request.data(), request.size()),
              static_cast<ssize_t>(request.size()));
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;)
        out.append(buf, static_cast<std::size_t>(n));
    return out;
}

asio::awaitable<Response> echoTarget(const RequestHead& head) {
    co_return Response{200, head.method + " " + head.target, "text/plain"};
}

TEST(HttpServer, AnswersWithTheHandlersResponseAndHonoursConnectionClose) {
    Server server("the test server", "127.0.0.1", 0,
                  [](const RequestHead& head, RequestBody&) { return echoTarget(head); });
    ASSERT_GT(server.port(), 0);
    const auto reply =
        exchange(server.port(), "GET /a?b=c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(reply,
              "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nContent-Type: text/plain\r\n"
              "Connection: close\r\n\r\nGET /a?b=c");
    const auto bad = exchange(server.port(), "NOT HTTP\r\n\r\n");
    EXPECT_EQ(bad.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << bad;
}

TEST(HttpServer, APortInUseIsAListenErrorWithTheSystemsReason) {
    const RequestHandler handler = [](const RequestHead& head, RequestBody&) {
        return echoTarget(head);
    };
    Server first("the test server", "127.0.0.1", 0, handler);
    try {
        Server second("the test server", "127.0.0.1", first.port(), handler);
        FAIL();
    } catch (const ListenError& e) {
        EXPECT_NE(std::string(e.what()).find("cannot listen for the test server on 127.0.0.1:"),
                  std::string::npos)
            << e.what();
        EXPECT_FALSE(e.reason().empty());
    }
    EXPECT_THROW(Server("the test server", "localhost", 0, handler), base::Error);
}

}  // namespace
}  // namespace nixjail::runner::http
