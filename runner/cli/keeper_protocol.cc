// Unix-socket messages with fds (SCM_RIGHTS) between a keeper and its callers.
#include "runner/cli/keeper_protocol.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runner/base/error.h"

namespace nixjail::runner::cli {

namespace {

namespace fs = std::filesystem;
constexpr std::size_t kMaxMessage = 1 << 20;

sockaddr_un addressOf(const fs::path& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.string().size() >= sizeof addr.sun_path) {
        throw base::Error("the kept job's socket path '" + path.string() + "' is longer than a unix socket allows (" +
                          std::to_string(sizeof addr.sun_path - 1) + " bytes); use a shorter --cache-dir");
    }
    std::memcpy(addr.sun_path, path.c_str(), path.string().size());
    return addr;
}

}  // namespace

base::UniqueFd listenKeeperSocket(const fs::path& path) {
    const sockaddr_un addr = addressOf(path);
    base::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) throw base::SysError("creating the kept job's socket");
    ::unlink(path.c_str());
    const mode_t old = ::umask(077);
    const int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    ::umask(old);
    if (rc != 0) throw base::SysError("binding the kept job's socket '" + path.string() + "'");
    if (::listen(fd.get(), 8) != 0) throw base::SysError("listening on '" + path.string() + "'");
    return fd;
}

base::UniqueFd connectKeeper(const fs::path& path) {
    const sockaddr_un addr = addressOf(path);
    base::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) throw base::SysError("creating a socket");
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        if (errno == ECONNREFUSED || errno == ENOENT) return {};
        throw base::SysError("connecting to the kept job's keeper at '" + path.string() + "'");
    }
    return fd;
}

void sendKeeperMessage(int socket, const nlohmann::json& body, const std::vector<int>& fds) {
    if (fds.size() > 3) throw base::Error("a keeper message carries at most 3 fds");
    const std::string text = body.dump() + "\n";
    std::size_t sent = 0;
    while (sent < text.size()) {
        iovec iov{const_cast<char*>(text.data() + sent), text.size() - sent};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        alignas(cmsghdr) char control[CMSG_SPACE(3 * sizeof(int))] = {};
        if (sent == 0 && !fds.empty()) {
            msg.msg_control = control;
            msg.msg_controllen = CMSG_SPACE(fds.size() * sizeof(int));
            cmsghdr* c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
            std::memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
        }
        const ssize_t n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw base::SysError("sending to the kept job's keeper");
        sent += static_cast<std::size_t>(n);
    }
}

KeeperMessage receiveKeeperMessage(int socket) {
    KeeperMessage out;
    std::string text;
    while (text.empty() || text.back() != '\n') {
        char buf[4096];
        iovec iov{buf, sizeof buf};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        alignas(cmsghdr) char control[CMSG_SPACE(3 * sizeof(int))] = {};
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw base::SysError("reading from the kept job's socket");
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                out.fds.emplace_back(fd);
            }
        }
        if (n == 0) throw base::Error("the other side closed the kept job's socket mid-message");
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > kMaxMessage) throw base::Error("a message on the kept job's socket is too long");
    }
    try {
        out.body = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw base::Error(std::string("a malformed message on the kept job's socket: ") + e.what());
    }
    return out;
}

}  // namespace nixjail::runner::cli
