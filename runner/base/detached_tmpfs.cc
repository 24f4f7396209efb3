// See detached_tmpfs.h.
#include "runner/base/detached_tmpfs.h"

#include <sys/mount.h>

#include <cerrno>
#include <cstdio>

#include "runner/base/error.h"

namespace nixjail::base {

namespace {

void setOption(int fs, const char* key, const std::string& value, const std::string& what) {
    if (::fsconfig(fs, FSCONFIG_SET_STRING, key, value.c_str(), 0) != 0) {
        throw SysError("setting " + std::string(key) + "=" + value + " of the tmpfs for " + what);
    }
}

}  // namespace

DetachedTmpfs::DetachedTmpfs(const Options& options) {
    const std::string& what = options.what;
    UniqueFd fs(::fsopen("tmpfs", FSOPEN_CLOEXEC));
    if (!fs) {
        throw SysError("making a tmpfs for " + what + " (fsopen; Linux 5.2 or later, as root)");
    }
    if (options.size_bytes > 0) setOption(fs.get(), "size", std::to_string(options.size_bytes), what);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(options.mode & 07777));
    setOption(fs.get(), "mode", mode, what);
    setOption(fs.get(), "uid", std::to_string(options.uid), what);
    setOption(fs.get(), "gid", std::to_string(options.gid), what);
    if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
        throw SysError("creating the tmpfs for " + what);
    }
    fd_.reset(::fsmount(fs.get(), FSMOUNT_CLOEXEC,
                        MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
    if (!fd_) throw SysError("mounting the tmpfs for " + what + " (fsmount)");
}

}  // namespace nixjail::base
