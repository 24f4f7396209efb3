// The calling thread in another network namespace, for a guard's lifetime: setns(CLONE_NEWNET)
// and unshare(CLONE_NEWNET) change only the calling thread, and the guard puts it back where it
// was. This is how the runner makes a job's namespace and binds its proxy there without a thread
// of its own for each (a thread's start and end, and waking it, cost more than the switch).
#pragma once

#include "runner/base/unique_fd.h"

namespace nixjail::base {

class ThreadNetns {
  public:
    // Moves the calling thread into the namespace `netns_fd` refers to. Throws SysError naming
    // `what` when it cannot (the thread then stays where it was).
    static ThreadNetns enter(int netns_fd, const char* what);
    // Moves the calling thread into a new, empty network namespace (unshare). Throws SysError
    // naming `what` when it cannot (EPERM without CAP_SYS_ADMIN).
    static ThreadNetns enterNew(const char* what);
    // The namespace the calling thread is in now, opened (/proc/thread-self/ns/net). Throws
    // SysError naming `what`.
    static UniqueFd openCurrent(const char* what);

    // Back to the thread's own namespace. A thread that cannot return would go on serving the
    // runner from a job's namespace, so this aborts then (setns into a namespace the thread was
    // in, by an fd held since, does not fail short of a kernel bug).
    ~ThreadNetns();
    ThreadNetns(ThreadNetns&& other) noexcept = default;
    ThreadNetns(const ThreadNetns&) = delete;
    ThreadNetns& operator=(const ThreadNetns&) = delete;
    ThreadNetns& operator=(ThreadNetns&&) = delete;

  private:
    explicit ThreadNetns(UniqueFd home) : home_(std::move(home)) {}

    UniqueFd home_;  // the namespace the thread came from; invalid once moved from
};

}  // namespace nixjail::base
