// A btrfs image attached with the loop-control ioctls and mounted with mount(2).
#include "tests/integration/btrfs_loop.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "runner/base/child_process.h"
#include "runner/base/error.h"
#include "runner/base/mount_table.h"
#include "runner/base/unique_fd.h"
#include "workspace-cache/loop_device.h"

namespace nixjail::testing {

namespace fs = std::filesystem;
using base::SysError;
using base::UniqueFd;

namespace {

std::string findTool(const char* name) {
    for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"})
        if (::access((std::string(dir) + "/" + name).c_str(), X_OK) == 0)
            return std::string(dir) + "/" + name;
    return {};
}

}  // namespace

std::string BtrfsLoopMount::unavailableReason() {
    if (::geteuid() != 0)
        return "needs root to attach a loop device and mount btrfs (euid " +
               std::to_string(::geteuid()) + ")";
    if (!base::kernelHasFilesystem("btrfs")) return "kernel has no btrfs in /proc/filesystems (modprobe btrfs)";
    if (findTool("mkfs.btrfs").empty()) return "mkfs.btrfs not found (apt install btrfs-progs)";
    if (auto why = cache::LoopDevice::unavailableReason(); !why.empty()) return why;
    return {};
}

BtrfsLoopMount::BtrfsLoopMount(std::uint64_t size_bytes) : dir_("nixjail-btrfs-test-") {
    image_ = dir_.path() / "image";
    mount_point_ = dir_.path() / "mnt";
    {
        UniqueFd img(::open(image_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (!img || ::ftruncate(img.get(), static_cast<off_t>(size_bytes)) != 0)
            throw SysError("cannot create btrfs image '" + image_.string() + "'");
    }
    base::SpawnOptions mkfs;
    mkfs.argv = {findTool("mkfs.btrfs"), "-q", "-f", image_.string()};
    mkfs.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    UniqueFd devnull(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    mkfs.stdout_fd = devnull.get();  // its notes about changed defaults are noise in test output
    base::ExitStatus st = base::ChildProcess::spawn(mkfs).wait();
    if (!st.exited() || st.exitCode() != 0)
        throw base::Error("mkfs.btrfs on '" + image_.string() + "' failed (exit " +
                          std::to_string(st.exitCode()) + ")");

    // Held until mounted: autoclear would detach the device on its last close.
    cache::LoopDevice loop(image_);
    loop_device_ = loop.path();
    fs::create_directory(mount_point_);
    if (::mount(loop_device_.c_str(), mount_point_.c_str(), "btrfs", 0, nullptr) != 0)
        throw SysError("cannot mount btrfs from '" + loop_device_ + "' on '" +
                       mount_point_.string() + "'");
    mounted_ = true;
}

BtrfsLoopMount::~BtrfsLoopMount() {
    if (mounted_ && ::umount2(mount_point_.c_str(), 0) != 0) {
        spdlog::warn("unmounting '{}' failed ({}), detaching lazily", mount_point_.string(),
                     std::strerror(errno));
        ::umount2(mount_point_.c_str(), MNT_DETACH);
    }
    // With autoclear the loop device is gone now; TempDir deletes the image and mount point.
}

}  // namespace nixjail::testing
