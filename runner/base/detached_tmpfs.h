// DetachedTmpfs: a tmpfs that is mounted nowhere. fsopen/fsmount make it and hand back one fd to
// its root; files are made and read relative to that fd (openat), and a jail attaches it in its
// own mount namespace with move_mount (once: a moved mount cannot be moved again). No mount
// table ever shows it, so nothing on the host needs unmounting: it is gone once this fd is
// closed and the mount namespaces it was attached in have ended.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "runner/base/unique_fd.h"

namespace nixjail::base {

class DetachedTmpfs {
  public:
    struct Options {
        std::uint64_t size_bytes = 0;  // 0: the kernel's default (half the RAM)
        uid_t uid = 0;                 // owner of its root directory
        gid_t gid = 0;
        mode_t mode = 0755;            // of its root directory
        std::string what;              // what it is for, in error messages
    };

    // Mounted nosuid, nodev and noexec. Throws SysError (ENOSYS before Linux 5.2, EPERM without
    // CAP_SYS_ADMIN).
    explicit DetachedTmpfs(const Options& options);

    // The root: a directory fd (O_PATH) for openat and friends, and move_mount's source with
    // MOVE_MOUNT_F_EMPTY_PATH. Close-on-exec.
    int fd() const { return fd_.get(); }

  private:
    UniqueFd fd_;
};

}  // namespace nixjail::base
