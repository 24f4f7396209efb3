// The markers are what node 20 and OpenJDK 17 print when mmap/mprotect with PROT_WRITE|PROT_EXEC
// answers EPERM (checked under a seccomp filter like the strict profile's).
#include "runner/actions/jit_failure.h"

#include <algorithm>
#include <array>

namespace nixjail::runner::actions {

namespace {

constexpr std::array<std::string_view, 3> kMarkers = {
    "WebAssembly is not defined",                 // node --jitless: no WebAssembly object
    "OS::SetPermissions",                         // V8's fatal error when it cannot map code
    "Failed to mark memory page as executable",  // HotSpot at start-up
};

std::size_t longestMarker() {
    std::size_t n = 0;
    for (auto m : kMarkers) n = std::max(n, m.size());
    return n;
}

}  // namespace

void JitFailureScanner::feed(std::string_view chunk) {
    if (found_) return;
    tail_.append(chunk);
    for (auto m : kMarkers) {
        if (tail_.find(m) != std::string::npos) {
            found_ = true;
            tail_.clear();
            return;
        }
    }
    const std::size_t keep = longestMarker() - 1;
    if (tail_.size() > keep) tail_.erase(0, tail_.size() - keep);
}

std::string jitFailureNote() {
    return "This step needs writable+executable memory (node's WebAssembly or JIT, a JVM), which "
           "the strict hardening profile forbids; run the job under the default profile "
           "(nixjail-runner exec --profile default; in the daemon, the label's profile: default)";
}

}  // namespace nixjail::runner::actions
