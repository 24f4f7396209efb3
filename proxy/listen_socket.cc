// The calling thread binds in the job's namespace and returns to its own (base::ThreadNetns):
// setns(CLONE_NEWNET) changes only that thread, so the io thread and the rest of the process stay
// in the host namespace.
#include "proxy/listen_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "runner/base/error.h"
#include "runner/base/thread_netns.h"

namespace nixjail::proxy {

namespace {

struct Outcome {
    int fd = -1;
    int err = 0;
    const char* step = nullptr;
};

// In the calling thread's namespace.
Outcome bindAndListen(const std::string& address, std::uint16_t port) {
    Outcome out;
    sockaddr_storage ss{};
    socklen_t len = 0;
    int family = AF_INET;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        len = sizeof *v4;
    } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
        family = AF_INET6;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        len = sizeof *v6;
    } else {
        out.err = EINVAL;
        out.step = "parse the listen address (need an IPv4 or IPv6 literal)";
        return out;
    }
    int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        out.err = errno;
        out.step = "create the listening socket";
        return out;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        out.err = errno;
        out.step = "bind the listening socket";
    } else if (::listen(fd, SOMAXCONN) != 0) {
        out.err = errno;
        out.step = "listen";
    }
    if (out.err) {
        ::close(fd);
        return out;
    }
    out.fd = fd;
    return out;
}

}  // namespace

base::UniqueFd createListenSocket(int netns_fd, const std::string& address, std::uint16_t port) {
    Outcome out;
    if (netns_fd < 0) {
        out = bindAndListen(address, port);
    } else {
        const auto inside = base::ThreadNetns::enter(
            netns_fd, ("proxy cannot enter the job's network namespace to listen on '" + address + "'").c_str());
        out = bindAndListen(address, port);
    }
    if (out.fd < 0) {
        throw base::SysError(std::string("proxy cannot ") + out.step + " for '" + address + ":" +
                                 std::to_string(port) + "'" +
                                 (netns_fd >= 0 ? " in the job's network namespace" : ""),
                             out.err);
    }
    return base::UniqueFd(out.fd);
}

}  // namespace nixjail::proxy
