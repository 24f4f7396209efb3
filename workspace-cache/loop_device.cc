// Attaching an image with the loop-control ioctls (LOOP_CTL_GET_FREE, LOOP_SET_FD) and autoclear.
#include "workspace-cache/loop_device.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>

#include "runner/base/error.h"

namespace nixjail::cache {

using base::SysError;
using base::UniqueFd;

std::string LoopDevice::unavailableReason() {
    if (::geteuid() != 0)
        return "attaching a loop device needs root (euid " + std::to_string(::geteuid()) + ")";
    if (::access("/dev/loop-control", R_OK | W_OK) != 0)
        return "no usable /dev/loop-control: " + std::string(std::strerror(errno)) +
               " (modprobe loop, or give the runner's container the loop devices)";
    return {};
}

LoopDevice::LoopDevice(const std::filesystem::path& image) {
    UniqueFd ctl(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
    if (!ctl) throw SysError("cannot open /dev/loop-control to attach '" + image.string() + "'");
    UniqueFd img(::open(image.c_str(), O_RDWR | O_CLOEXEC));
    if (!img) throw SysError("cannot open image '" + image.string() + "'");
    // Another process may take the same free device between GET_FREE and SET_FD: try again.
    for (int attempt = 0; attempt < 20; ++attempt) {
        const int n = ::ioctl(ctl.get(), LOOP_CTL_GET_FREE);
        if (n < 0) throw SysError("cannot get a free loop device for '" + image.string() + "'");
        std::string dev = "/dev/loop" + std::to_string(n);
        if (::access(dev.c_str(), F_OK) != 0 &&
            ::mknod(dev.c_str(), S_IFBLK | 0660, makedev(7, n)) != 0 && errno != EEXIST)
            throw SysError("cannot create device node '" + dev + "'");
        UniqueFd loop(::open(dev.c_str(), O_RDWR | O_CLOEXEC));
        if (!loop) throw SysError("cannot open '" + dev + "'");
        if (::ioctl(loop.get(), LOOP_SET_FD, img.get()) != 0) {
            if (errno == EBUSY) continue;
            throw SysError("cannot attach '" + image.string() + "' to '" + dev + "'");
        }
        struct loop_info64 info {};
        info.lo_flags = LO_FLAGS_AUTOCLEAR;
        if (::ioctl(loop.get(), LOOP_SET_STATUS64, &info) != 0) {
            const int err = errno;
            ::ioctl(loop.get(), LOOP_CLR_FD, 0);
            throw SysError("cannot set autoclear on '" + dev + "'", err);
        }
        path_ = std::move(dev);
        fd_ = std::move(loop);
        return;
    }
    throw base::Error("no free loop device for '" + image.string() +
                      "' after 20 attempts; are other processes taking them all?");
}

}  // namespace nixjail::cache
