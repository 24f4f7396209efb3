// ArtifactQuota: one counter under a mutex; the refusals name the limit and the way to raise it.
#include "runner/artifact_server/artifact_quota.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "runner/artifact_server/artifact_store.h"

namespace nixjail::runner::artifact_server {

void ArtifactQuota::claim(std::uint64_t n, const std::string& what) {
    std::lock_guard lock(mu_);
    if (n > limit_ || used_ > limit_ - n) {
        throw ArtifactRefused(
            413,
            fmt::format("{}: {} more bytes would take this run's artifacts beyond the artifact "
                        "budget of {} bytes ({} bytes are stored); upload less, or raise "
                        "--artifact-server-budget",
                        what, n, limit_, used_));
    }
    used_ += n;
}

void ArtifactQuota::release(std::uint64_t n) {
    std::lock_guard lock(mu_);
    used_ -= std::min(n, used_);
}

std::uint64_t ArtifactQuota::used() const {
    std::lock_guard lock(mu_);
    return used_;
}

void throwWriteFailure(int err, const std::string& what) {
    if (err == ENOSPC || err == EDQUOT) {
        throw ArtifactRefused(507, what + ": " + std::strerror(err) +
                                       "; the disk under --artifact-server-path is full, the "
                                       "artifact is not stored");
    }
    throw base::SysError(what, err);
}

}  // namespace nixjail::runner::artifact_server
