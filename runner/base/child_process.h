// ChildProcess owns a spawned process (and its process group); destroying it kills and reaps it.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "runner/base/unique_fd.h"

namespace nixjail::base {

struct SpawnOptions {
    std::vector<std::string> argv;
    std::vector<std::string> env;  // KEY=VALUE; the child sees exactly these
    std::filesystem::path cwd;     // empty: inherit
    int stdin_fd = -1;             // -1: /dev/null
    int stdout_fd = -1;            // -1: inherit
    int stderr_fd = -1;            // -1: inherit
    bool new_session = true;       // own session and process group, so killTree() reaches helpers
};

struct ExitStatus {
    int raw = 0;  // as from waitpid
    struct rusage usage {};
    bool exited() const;
    int exitCode() const;    // -1 when killed by a signal
    int termSignal() const;  // 0 when exited normally
};

class ChildProcess {
public:
    // Throws SysError naming argv[0] when the program cannot be started.
    static ChildProcess spawn(const SpawnOptions& opts);

    ChildProcess() = default;
    ChildProcess(ChildProcess&& o) noexcept;
    ChildProcess& operator=(ChildProcess&& o) noexcept;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess();

    pid_t pid() const { return pid_; }
    // Readable (POLLIN) once the process has exited.
    int pidfd() const { return pidfd_.get(); }
    bool running() const { return pid_ > 0; }

    // Reaps the process if it has exited; does not block.
    std::optional<ExitStatus> tryWait();
    ExitStatus wait();
    // Signals the whole process group (or just the process when it has none of its own).
    void killTree(int sig) const;

private:
    pid_t pid_ = -1;
    bool own_group_ = false;
    UniqueFd pidfd_;
};

}  // namespace nixjail::base
