// See anonymous_netns.h.
#include "runner/network/anonymous_netns.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "runner/base/error.h"

namespace nixjail::runner::network {

namespace {

// In the calling thread's network namespace: sets lo up. Returns 0 or an errno value.
int bringUpLoopback() {
    base::UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock) return errno;
    ifreq req{};
    std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(sock.get(), SIOCGIFFLAGS, &req) != 0) return errno;
    req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP | IFF_RUNNING);
    if (::ioctl(sock.get(), SIOCSIFFLAGS, &req) != 0) return errno;
    return 0;
}

}  // namespace

base::UniqueFd createAnonymousNetns() {
    // The helper thread dies inside the new namespace; only the fd keeps it alive.
    int fd = -1;
    int err = 0;
    const char* what = "";
    std::thread([&] {
        if (::unshare(CLONE_NEWNET) != 0) {
            err = errno;
            what = "creating the job's network namespace (unshare CLONE_NEWNET)";
            return;
        }
        if (int e = bringUpLoopback(); e != 0) {
            err = e;
            what = "setting the loopback device of the job's network namespace up";
            return;
        }
        fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            err = errno;
            what = "opening the job's network namespace (/proc/thread-self/ns/net)";
        }
    }).join();
    if (fd < 0) {
        if (err == EPERM) {
            throw base::Error(std::string(what) + ": " + std::strerror(err) +
                              "; the per-job network needs a root runner (CAP_SYS_ADMIN)");
        }
        throw base::SysError(what, err);
    }
    return base::UniqueFd(fd);
}

}  // namespace nixjail::runner::network
