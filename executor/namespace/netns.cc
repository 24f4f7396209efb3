// Network namespace handling for the jail.
#include "executor/namespace/netns.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runner/base/error.h"

namespace nixjail::executor::ns {

ThreadNetnsSwitch::ThreadNetnsSwitch(int netns_fd)
    : original_(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
    if (!original_) throw base::SysError("opening this thread's network namespace");
    if (::setns(netns_fd, CLONE_NEWNET) != 0) {
        throw base::SysError("entering the job's network namespace (fd " +
                             std::to_string(netns_fd) +
                             "); is it a netns fd and is the runner root?");
    }
}

void ThreadNetnsSwitch::restore() {
    if (!original_) return;
    if (::setns(original_.get(), CLONE_NEWNET) != 0) {
        throw base::SysError("returning this thread to the runner's network namespace");
    }
    original_.reset();
}

ThreadNetnsSwitch::~ThreadNetnsSwitch() {
    try {
        restore();
    } catch (const base::Error& e) {
        spdlog::error("{}; this thread stays in the job's network namespace", e.what());
    }
}

int bringUpLoopback() {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno;
    struct ifreq req;
    std::memset(&req, 0, sizeof req);
    std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
    int rc = ::ioctl(fd, SIOCGIFFLAGS, &req);
    if (rc == 0) {
        req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP | IFF_RUNNING);
        rc = ::ioctl(fd, SIOCSIFFLAGS, &req);
    }
    int err = rc == 0 ? 0 : errno;
    ::close(fd);
    return err;
}

}  // namespace nixjail::executor::ns
