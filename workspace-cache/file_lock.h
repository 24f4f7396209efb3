// FileLock: an flock(2) on a lock file, shared or exclusive, released when destroyed.
#pragma once

#include <filesystem>

#include "runner/base/unique_fd.h"

namespace nixjail::cache {

enum class LockMode { kShared, kExclusive };

class FileLock {
  public:
    FileLock() = default;
    // Opens (creating) `path` without locking it yet.
    explicit FileLock(std::filesystem::path path);

    // Blocks until the lock is held in `mode`; converting an existing lock is not atomic (flock).
    void lock(LockMode mode);
    // Returns false when someone else holds a conflicting lock.
    bool tryLock(LockMode mode);
    void unlock();
    bool held() const { return held_; }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
    base::UniqueFd fd_;
    bool held_ = false;
};

}  // namespace nixjail::cache
