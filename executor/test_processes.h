// Test fixture only: finding a step's processes from the host by their argv, and waiting for them
// to end, so a test can prove that no process of a step's tree survives it.
#pragma once

#include <dirent.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "runner/base/unique_fd.h"

namespace nixjail::executor::testing {

// Live (not zombie) processes whose command line is exactly `argv`, in any pid namespace below
// this one.
inline std::vector<pid_t> processesWithArgv(const std::vector<std::string>& argv) {
    std::string want;
    for (const auto& a : argv) want += a + '\0';
    std::vector<pid_t> found;
    DIR* proc = ::opendir("/proc");
    if (!proc) return found;
    while (const struct dirent* e = ::readdir(proc)) {
        const std::string name = e->d_name;
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream cmdline("/proc/" + name + "/cmdline", std::ios::binary);
        const std::string text((std::istreambuf_iterator<char>(cmdline)),
                               std::istreambuf_iterator<char>());
        if (text == want) found.push_back(static_cast<pid_t>(std::stol(name)));
    }
    ::closedir(proc);
    return found;
}

// The processes of `pids` still running after `timeout` (each waited for on its pidfd).
inline std::vector<pid_t> survivorsAfter(const std::vector<pid_t>& pids,
                                         std::chrono::milliseconds timeout) {
    std::vector<pid_t> alive;
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (pid_t pid : pids) {
        base::UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
        if (!fd) continue;  // ESRCH: gone already
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            until - std::chrono::steady_clock::now());
        struct pollfd p = {fd.get(), POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 0))) <= 0)
            alive.push_back(pid);
    }
    return alive;
}

// The step script of the cancel tests: it traps SIGTERM (writing `marker` in its working
// directory) and keeps running; its helper `sleep <token>` ignores SIGTERM. "started" is printed
// once the helper runs.
inline std::string trapsSigtermScript(const std::string& marker, const std::string& token) {
    return "trap 'echo term > " + marker +
           "' TERM\n"
           "(trap '' TERM; exec sleep " +
           token +
           ") &\n"
           "h=$!\n"
           "until tr '\\0' ' ' < /proc/$h/cmdline 2>/dev/null | grep -q '^sleep " +
           token +
           " '; do sleep 0.01; done\n"
           "echo started\n"
           "while :; do sleep 0.05; done\n";
}

}  // namespace nixjail::executor::testing
