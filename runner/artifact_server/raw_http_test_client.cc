// For the artifact server's tests: one HTTP exchange over a loopback socket (see
// raw_http_test_client.h).
#include "runner/artifact_server/raw_http_test_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runner/base/unique_fd.h"

namespace nixjail::runner::artifact_server::testing {

std::string raw(std::uint16_t port, std::string_view request) {
    base::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ADD_FAILURE() << "connect";
        return "";
    }
    for (std::string_view rest = request; !rest.empty();) {
        ssize_t n = ::write(fd.get(), rest.data(), rest.size());
        if (n <= 0) break;  // the server may answer and close before reading all of it
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    std::string out;
    char buf[65536];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;)
        out.append(buf, static_cast<std::size_t>(n));
    return out;
}

int statusOf(const std::string& answer) {
    return answer.size() > 12 ? std::stoi(answer.substr(9, 3)) : -1;
}

std::string bodyOf(const std::string& answer) {
    auto p = answer.find("\r\n\r\n");
    return p == std::string::npos ? "" : answer.substr(p + 4);
}

}  // namespace nixjail::runner::artifact_server::testing
