// The runner's command line and environment as /proc/<pid>/cmdline and /proc/<pid>/environ show
// them. A jail's init starts as a copy of the runner, so until it overwrites them the jail could
// read the runner's argv (`--secret K=V`) from /proc/1/cmdline, which is world-readable.
#pragma once

#include <cstdint>

namespace nixjail::executor::ns {

struct ProcessStrings {
    std::uintptr_t arg_start = 0, arg_end = 0;
    std::uintptr_t env_start = 0, env_end = 0;
};

// This process's ranges, from /proc/self/stat (fields 48 to 51); all zero when unreadable.
ProcessStrings readProcessStrings();

// Child side, async-signal-safe: overwrites both ranges in this process's (copied) memory with
// zeros and writes `title` at the start of the command line, if it fits.
void scrubProcessStrings(const ProcessStrings& strings, const char* title);

}  // namespace nixjail::executor::ns
