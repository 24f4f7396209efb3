// A job's network namespace made before the job asks for it. Making one costs the kernel a
// millisecond or more (unshare, loopback up) that sat on every job's start; a runner that knows
// its jobs will want one makes it while it does other things (exec: while it starts up; the
// daemon: while it waits for the next task).
#pragma once

#include <future>
#include <mutex>

#include "runner/base/unique_fd.h"

namespace nixjail::runner::network {

class SpareNetns {
  public:
    // Starts making the first namespace now, on a thread of its own. With `refill`, each take()
    // starts making the next one (a daemon's jobs keep coming); without, later takes make theirs
    // on demand (exec: one run, most often one job).
    explicit SpareNetns(bool refill);
    // Waits for a namespace still being made; the spare, unused, is closed (and goes with its fd).
    ~SpareNetns();
    SpareNetns(const SpareNetns&) = delete;
    SpareNetns& operator=(const SpareNetns&) = delete;

    // The spare, as the future it is being made in (no thread of the caller's waits for it
    // meanwhile), or a new one being made on a thread of its own when none is left. Its get()
    // throws what createAnonymousNetns throws, for the job that takes it: the runner's start does
    // not fail for a namespace it made ahead. Thread-safe.
    std::future<base::UniqueFd> take();

  private:
    std::mutex mutex_;
    std::future<base::UniqueFd> next_;  // invalid: none being made or made
    const bool refill_;
};

}  // namespace nixjail::runner::network
