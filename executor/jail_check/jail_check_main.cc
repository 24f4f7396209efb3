// nixjail-jail-check: run by the runner as the first process in each job's jail, before any step.
// It reads what the kernel says about itself (capabilities, no_new_privs, seccomp mode, network
// interfaces and routes), tries to create a file in /nix/store, and prints one line per promise
// (jail_promises.h). Linked statically: it must run in a root that holds only the job's packages.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "executor/jail_check/jail_promises.h"

namespace {

std::string readProcFile(const char* path) {
    std::string out;
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

int storeCreateErrno() {
    const std::string path = "/nix/store/.nixjail-jail-check-" + std::to_string(::getpid());
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return errno;
    ::close(fd);
    ::unlink(path.c_str());
    return 0;
}

}  // namespace

int main() {
    nixjail::executor::JailFacts facts;
    facts.proc_status = readProcFile("/proc/self/status");
    facts.net_dev = readProcFile("/proc/self/net/dev");
    facts.net_route = readProcFile("/proc/self/net/route");
    facts.ipv6_route = readProcFile("/proc/self/net/ipv6_route");
    facts.store_create_errno = storeCreateErrno();
    const auto checks = nixjail::executor::judgeJailFacts(facts);
    const std::string text = nixjail::executor::formatChecks(checks);
    for (size_t done = 0; done < text.size();) {
        ssize_t n = ::write(STDOUT_FILENO, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 2;
        done += static_cast<size_t>(n);
    }
    for (const auto& c : checks) {
        if (!c.passed) return 1;
    }
    return 0;
}
