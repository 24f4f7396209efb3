// A job's ext4 volume: sparse image, mkfs.ext4, loop device, mount(2); undone in reverse.
#include "workspace-cache/job_volume.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "runner/base/error.h"
#include "runner/base/find_program.h"
#include "runner/base/mount_table.h"
#include "runner/base/unique_fd.h"
#include "workspace-cache/command_output.h"
#include "workspace-cache/loop_device.h"

namespace nixjail::cache {

namespace fs = std::filesystem;
using base::SysError;

namespace {

// mkfs.ext4 from PATH, else where distributions and NixOS put it (a service's PATH may lack
// /usr/sbin).
std::string mkfsPath() {
    const char* path = std::getenv("PATH");
    return base::findProgram("mkfs.ext4", std::string(path ? path : "") +
                                              ":/usr/sbin:/sbin:/run/current-system/sw/bin")
        .string();
}

constexpr std::uint64_t kMinimumSize = 16ull << 20;

}  // namespace

std::string JobVolume::unavailableReason() {
    if (auto why = LoopDevice::unavailableReason(); !why.empty()) return why;
    if (!base::kernelHasFilesystem("ext4")) return "the kernel lists no ext4 in /proc/filesystems (modprobe ext4)";
    if (mkfsPath().empty()) return "mkfs.ext4 not found (install e2fsprogs)";
    return {};
}

JobVolume::JobVolume(fs::path image, fs::path mount_point, std::uint64_t size_bytes)
    : image_(std::move(image)), mount_point_(std::move(mount_point)), size_bytes_(size_bytes) {
    const std::string what = "the job's " + std::to_string(size_bytes >> 20) + " MiB volume";
    if (size_bytes < kMinimumSize) {
        throw base::Error(what +
                          ": a disk quota below 16 MiB leaves no room for a workspace; "
                          "raise it");
    }
    if (auto why = unavailableReason(); !why.empty()) {
        throw base::Error(what + " cannot be made: " + why +
                          "; or run without a workspace disk quota");
    }
    {
        base::UniqueFd img(::open(image_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (!img)
            throw SysError("cannot create the image of " + what + " at '" + image_.string() + "'");
        if (::ftruncate(img.get(), static_cast<off_t>(size_bytes)) != 0) {
            const int err = errno;
            ::unlink(image_.c_str());
            throw SysError("cannot size the image of " + what + " at '" + image_.string() + "'",
                           err);
        }
    }
    try {
        // No reserved blocks (the job may use all of it); inode tables and journal initialised
        // lazily, so formatting takes milliseconds whatever the size.
        auto r = runCommand({mkfsPath(), "-q", "-F", "-m", "0", "-E",
                             "lazy_itable_init=1,lazy_journal_init=1,nodiscard", image_.string()},
                            {});
        if (r.exit_code != 0) {
            throw base::Error("mkfs.ext4 on '" + image_.string() + "' for " + what +
                              " failed (exit " + std::to_string(r.exit_code) + "): " + r.err);
        }
        LoopDevice loop(image_);  // held until mounted; the mount keeps it afterwards
        fs::create_directory(mount_point_);
        if (::mount(loop.path().c_str(), mount_point_.c_str(), "ext4", MS_NODEV | MS_NOSUID,
                    nullptr) != 0) {
            throw SysError("cannot mount " + what + " from '" + loop.path() + "' on '" +
                           mount_point_.string() + "'");
        }
        mounted_ = true;
        fs::remove(mount_point_ / "lost+found");
    } catch (...) {
        release();
        throw;
    }
}

JobVolume::~JobVolume() { release(); }

void JobVolume::release() noexcept {
    if (mounted_) {
        if (::umount2(mount_point_.c_str(), 0) != 0) {
            spdlog::warn("unmounting the job volume '{}' failed ({}); detaching it lazily",
                         mount_point_.string(), std::strerror(errno));
            ::umount2(mount_point_.c_str(), MNT_DETACH);
        }
        mounted_ = false;
    }
    std::error_code ec;
    fs::remove(mount_point_, ec);
    fs::remove(image_, ec);
}

JobVolume::Usage JobVolume::usage() const {
    struct statvfs st {};
    if (::statvfs(mount_point_.c_str(), &st) != 0)
        throw SysError("cannot read the usage of the job volume '" + mount_point_.string() + "'");
    Usage u;
    u.available_bytes = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
    u.used_bytes = static_cast<std::uint64_t>(st.f_blocks - st.f_bfree) * st.f_frsize;
    return u;
}

}  // namespace nixjail::cache
