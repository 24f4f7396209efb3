// See anonymous_netns.h.
#include "runner/network/anonymous_netns.h"

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "runner/base/error.h"
#include "runner/base/thread_netns.h"

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
    // The calling thread steps into the new namespace to set it up and steps back out; the
    // namespace lives on by the fd alone.
    try {
        const auto inside = base::ThreadNetns::enterNew("creating the job's network namespace");
        if (int e = bringUpLoopback(); e != 0)
            throw base::SysError("setting the loopback device of the job's network namespace up", e);
        return base::ThreadNetns::openCurrent("opening the job's network namespace");
    } catch (const base::SysError& e) {
        if (e.errnoValue() != EPERM) throw;
        throw base::Error(std::string(e.what()) + "; the per-job network needs a root runner (CAP_SYS_ADMIN)");
    }
}

}  // namespace nixjail::runner::network
