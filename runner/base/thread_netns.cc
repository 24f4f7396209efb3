#include "runner/base/thread_netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "runner/base/error.h"

namespace nixjail::base {

UniqueFd ThreadNetns::openOwn(const char* what) {
    UniqueFd own(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!own.valid()) throw SysError(std::string(what) + ": opening this thread's network namespace", errno);
    return own;
}

ThreadNetns ThreadNetns::enter(int netns_fd, const char* what) {
    UniqueFd home = openOwn(what);
    if (::setns(netns_fd, CLONE_NEWNET) != 0) throw SysError(std::string(what) + " (setns)", errno);
    return ThreadNetns(std::move(home));
}

ThreadNetns ThreadNetns::enterNew(const char* what) {
    UniqueFd home = openOwn(what);
    if (::unshare(CLONE_NEWNET) != 0) throw SysError(std::string(what) + " (unshare CLONE_NEWNET)", errno);
    return ThreadNetns(std::move(home));
}

ThreadNetns::~ThreadNetns() {
    if (!home_.valid()) return;
    if (::setns(home_.get(), CLONE_NEWNET) != 0) {
        std::fprintf(stderr, "nixjail-runner: a thread cannot return to its own network namespace: %s\n",
                     std::strerror(errno));
        std::abort();
    }
}

}  // namespace nixjail::base
