// Forwarding a host port to a service's port inside the job's network namespace.
#include "runner/engine/port_forwards.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <future>

#include "runner/base/error.h"

namespace nixjail::runner::engine {

namespace {

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

}  // namespace

PortForwards::PortForwards(int netns_fd, std::vector<std::pair<std::uint16_t, std::uint16_t>> forwards)
    : forwards_(std::move(forwards)) {
    std::promise<void> listening;
    auto ready = listening.get_future();
    acceptor_ = std::thread([this, netns_fd, &listening] {
        // This thread is ours alone: it stays in the job's namespace, where every socket it
        // makes belongs.
        try {
            if (::setns(netns_fd, CLONE_NEWNET) != 0) throw base::SysError("entering the job's network namespace");
            for (const auto& [host, container] : forwards_) {
                base::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
                const int one = 1;
                ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
                const sockaddr_in a = loopback(host);
                if (!fd || ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 ||
                    ::listen(fd.get(), 64) != 0) {
                    throw base::SysError("listening on 127.0.0.1:" + std::to_string(host) + " for the port mapping " +
                                         std::to_string(host) + ":" + std::to_string(container));
                }
                listeners_.push_back(std::move(fd));
            }
            listening.set_value();
        } catch (...) {
            listening.set_exception(std::current_exception());
            return;
        }
        accept();
    });
    try {
        ready.get();
    } catch (...) {
        acceptor_.join();
        throw;
    }
}

PortForwards::~PortForwards() {
    const char byte = 1;
    (void)!::write(wake_.write.get(), &byte, 1);
    if (acceptor_.joinable()) acceptor_.join();
    {
        std::lock_guard lock(mu_);
        for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : copiers_) t.join();
}

void PortForwards::accept() {
    for (;;) {
        std::vector<pollfd> fds{{wake_.read.get(), POLLIN, 0}};
        for (const auto& l : listeners_) fds.push_back({l.get(), POLLIN, 0});
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[0].revents) return;
        for (std::size_t i = 0; i < listeners_.size(); ++i) {
            if (!(fds[i + 1].revents & POLLIN)) continue;
            base::UniqueFd client(::accept4(listeners_[i].get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (!client) continue;
            base::UniqueFd upstream(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
            const sockaddr_in a = loopback(forwards_[i].second);
            if (!upstream || ::connect(upstream.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
                continue;  // the service does not listen (yet): the client sees the connection close
            }
            std::lock_guard lock(mu_);
            open_.push_back(client.get());
            open_.push_back(upstream.get());
            copiers_.emplace_back([this, c = std::move(client), u = std::move(upstream)]() mutable {
                copy(std::move(c), std::move(u));
            });
        }
    }
}

void PortForwards::copy(base::UniqueFd a, base::UniqueFd b) {
    bool aOpen = true, bOpen = true;
    char buf[16384];
    while (aOpen || bOpen) {
        pollfd fds[2] = {{aOpen ? a.get() : -1, POLLIN, 0}, {bOpen ? b.get() : -1, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (!fds[i].revents) continue;
            const int from = i == 0 ? a.get() : b.get();
            const int to = i == 0 ? b.get() : a.get();
            const ssize_t n = ::read(from, buf, sizeof buf);
            if (n <= 0) {
                ::shutdown(to, SHUT_WR);
                (i == 0 ? aOpen : bOpen) = false;
                continue;
            }
            for (ssize_t done = 0; done < n;) {
                const ssize_t w = ::send(to, buf + done, static_cast<std::size_t>(n - done), MSG_NOSIGNAL);
                if (w <= 0) {
                    aOpen = bOpen = false;
                    break;
                }
                done += w;
            }
        }
    }
    std::lock_guard lock(mu_);
    std::erase(open_, a.get());
    std::erase(open_, b.get());
}

}  // namespace nixjail::runner::engine
