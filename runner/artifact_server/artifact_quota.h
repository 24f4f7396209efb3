// How many bytes one artifact server may keep under its directory (exec --artifact-server-budget),
// so that a job cannot fill the runner's disk with artifacts. Both stores count every byte they
// write (v3 files, v4 blocks, blobs and zips) before writing it, and give it back when the file
// goes. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

namespace nixjail::runner::artifact_server {

inline constexpr std::uint64_t kDefaultArtifactBudget = 10ull << 30;

class ArtifactQuota {
  public:
    explicit ArtifactQuota(std::uint64_t limit_bytes = kDefaultArtifactBudget)
        : limit_(limit_bytes) {}

    // Counts `n` more bytes for `what` (a file, for the message); throws ArtifactRefused(413)
    // when they would take the total beyond the limit, and counts nothing then.
    void claim(std::uint64_t n, const std::string& what);
    void release(std::uint64_t n);
    std::uint64_t used() const;
    std::uint64_t limit() const { return limit_; }

  private:
    const std::uint64_t limit_;
    mutable std::mutex mu_;
    std::uint64_t used_ = 0;
};

// Throws for a failed write of `what` with errno `err`: ArtifactRefused(507) when the disk or a
// quota is full (ENOSPC, EDQUOT), base::SysError otherwise.
[[noreturn]] void throwWriteFailure(int err, const std::string& what);

}  // namespace nixjail::runner::artifact_server
