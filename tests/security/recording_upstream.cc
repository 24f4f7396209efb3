// RecordingUpstream: one poll loop over the listener and its connections; no request is trusted
// to be well formed, and a malformed one just stops that connection's parsing.
#include "tests/security/recording_upstream.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "runner/base/error.h"

namespace nixjail::security_testing {

namespace {

std::string lowered(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(0, 1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
    return s;
}

// Where the chunked body starting at `at` ends, or nullopt while it is incomplete. Throws
// std::invalid_argument (from stoull) on a bad size.
std::optional<std::size_t> chunkedEnd(const std::string& buf, std::size_t at) {
    while (true) {
        auto eol = buf.find("\r\n", at);
        if (eol == std::string::npos) return std::nullopt;
        const std::uint64_t size = std::stoull(buf.substr(at, eol - at), nullptr, 16);
        at = eol + 2;
        if (size == 0) {
            // Trailers end with an empty line.
            while (true) {
                auto end = buf.find("\r\n", at);
                if (end == std::string::npos) return std::nullopt;
                if (end == at) return end + 2;
                at = end + 2;
            }
        }
        if (buf.size() < at + size + 2) return std::nullopt;
        at += size + 2;
    }
}

}  // namespace

RecordingUpstream::RecordingUpstream()
    : listener_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener_.get(), 64) != 0 ||
        ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        throw base::SysError("recording upstream: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(a.sin_port);
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw base::SysError("recording upstream: pipe");
    stop_read_ = base::UniqueFd(p[0]);
    stop_write_ = base::UniqueFd(p[1]);
    thread_ = std::thread([this] { serve(); });
}

RecordingUpstream::~RecordingUpstream() {
    char c = 'x';
    [[maybe_unused]] auto n = ::write(stop_write_.get(), &c, 1);
    thread_.join();
}

std::vector<RecordedRequest> RecordingUpstream::requests() const {
    std::lock_guard lock(mu_);
    return requests_;
}

std::string RecordingUpstream::rawBytes() const {
    std::lock_guard lock(mu_);
    return raw_;
}

void RecordingUpstream::serve() {
    std::map<int, std::string> conns;  // fd -> bytes not parsed yet
    while (true) {
        std::vector<pollfd> fds{{stop_read_.get(), POLLIN, 0}, {listener_.get(), POLLIN, 0}};
        for (const auto& [fd, buf] : conns) fds.push_back({fd, POLLIN, 0});
        if (::poll(fds.data(), fds.size(), -1) < 0) continue;
        if (fds[0].revents) break;
        if (fds[1].revents & POLLIN) {
            int c = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
            if (c >= 0) conns.emplace(c, std::string());
        }
        for (std::size_t i = 2; i < fds.size(); ++i) {
            if (!fds[i].revents) continue;
            const int fd = fds[i].fd;
            char chunk[65536];
            ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) {
                ::close(fd);
                conns.erase(fd);
                continue;
            }
            {
                std::lock_guard lock(mu_);
                raw_.append(chunk, static_cast<std::size_t>(n));
            }
            conns[fd].append(chunk, static_cast<std::size_t>(n));
            drain(fd, conns[fd]);
        }
    }
    for (const auto& [fd, buf] : conns) ::close(fd);
}

void RecordingUpstream::drain(int fd, std::string& buf) {
    while (true) {
        const auto head_end = buf.find("\r\n\r\n");
        if (head_end == std::string::npos) return;
        RecordedRequest r;
        r.head = buf.substr(0, head_end + 4);
        const auto line_end = buf.find("\r\n");
        const std::string line = buf.substr(0, line_end);
        const auto sp1 = line.find(' '), sp2 = line.rfind(' ');
        if (sp1 == std::string::npos || sp2 == sp1) {
            buf.clear();  // not HTTP: nothing more to parse on this connection
            return;
        }
        r.method = line.substr(0, sp1);
        r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        bool chunked = false;
        std::uint64_t length = 0;
        for (std::size_t at = line_end + 2; at < head_end;) {
            const auto eol = buf.find("\r\n", at);
            const std::string h = buf.substr(at, eol - at);
            at = eol + 2;
            const auto colon = h.find(':');
            if (colon == std::string::npos) continue;
            const std::string name = lowered(trimmed(h.substr(0, colon)));
            const std::string value = trimmed(h.substr(colon + 1));
            if (name == "host" && r.host.empty()) r.host = value;
            if (name == "transfer-encoding" && lowered(value).find("chunked") != std::string::npos)
                chunked = true;
            if (name == "content-length") length = std::strtoull(value.c_str(), nullptr, 10);
        }
        std::size_t end = head_end + 4 + length;
        try {
            if (chunked) {
                auto e = chunkedEnd(buf, head_end + 4);
                if (!e) return;
                end = *e;
            }
        } catch (const std::exception&) {
            buf.clear();
            return;
        }
        if (buf.size() < end) return;
        buf.erase(0, end);
        {
            std::lock_guard lock(mu_);
            requests_.push_back(std::move(r));
        }
        static constexpr char kOk[] =
            "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nContent-Type: text/plain\r\n\r\nupstream\n";
        [[maybe_unused]] auto n = ::send(fd, kOk, sizeof kOk - 1, MSG_NOSIGNAL);
    }
}

}  // namespace nixjail::security_testing
