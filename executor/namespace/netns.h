// Network namespaces: entering the job's netns for one clone (parent), and loopback (child).
#pragma once

#include "runner/base/unique_fd.h"

namespace nixjail::executor::ns {

// Moves the calling thread (only it: setns is per thread) into `netns_fd` so a clone inherits
// it, and back on restore(). The destructor restores too and logs if that fails.
class ThreadNetnsSwitch {
  public:
    explicit ThreadNetnsSwitch(int netns_fd);
    ThreadNetnsSwitch(const ThreadNetnsSwitch&) = delete;
    ThreadNetnsSwitch& operator=(const ThreadNetnsSwitch&) = delete;
    ~ThreadNetnsSwitch();
    // Throws SysError if the thread could not return to its own namespace.
    void restore();

  private:
    base::UniqueFd original_;
};

// Child side, async-signal-safe: set lo up in the current (new) network namespace.
int bringUpLoopback();

}  // namespace nixjail::executor::ns
