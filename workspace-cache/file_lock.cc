// flock(2)-based locks on per-entry lock files.
#include "workspace-cache/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>

#include "runner/base/error.h"

namespace nixjail::cache {

namespace fs = std::filesystem;

FileLock::FileLock(fs::path path) : path_(std::move(path)) {
    fd_ = base::UniqueFd(::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd_) throw base::SysError("cannot open lock file '" + path_.string() + "'");
}

void FileLock::lock(LockMode mode) {
    int op = mode == LockMode::kShared ? LOCK_SH : LOCK_EX;
    while (::flock(fd_.get(), op) != 0) {
        if (errno != EINTR) throw base::SysError("cannot lock '" + path_.string() + "'");
    }
    held_ = true;
}

bool FileLock::tryLock(LockMode mode) {
    int op = (mode == LockMode::kShared ? LOCK_SH : LOCK_EX) | LOCK_NB;
    while (::flock(fd_.get(), op) != 0) {
        if (errno == EWOULDBLOCK) return false;
        if (errno != EINTR) throw base::SysError("cannot lock '" + path_.string() + "'");
    }
    held_ = true;
    return true;
}

void FileLock::unlock() {
    if (fd_ && ::flock(fd_.get(), LOCK_UN) != 0)
        throw base::SysError("cannot unlock '" + path_.string() + "'");
    held_ = false;
}

}  // namespace nixjail::cache
