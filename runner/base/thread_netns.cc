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

UniqueFd ThreadNetns::openCurrent(const char* what) {
    UniqueFd current(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!current.valid()) throw SysError(std::string(what) + " (/proc/thread-self/ns/net)", errno);
    return current;
}

ThreadNetns ThreadNetns::enter(int netns_fd, const char* what) {
    UniqueFd home = openCurrent((std::string(what) + ": opening this thread's network namespace").c_str());
    if (::setns(netns_fd, CLONE_NEWNET) != 0) throw SysError(std::string(what) + " (setns)", errno);
    return ThreadNetns(std::move(home));
}

ThreadNetns ThreadNetns::enterNew(const char* what) {
    UniqueFd home = openCurrent((std::string(what) + ": opening this thread's network namespace").c_str());
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
