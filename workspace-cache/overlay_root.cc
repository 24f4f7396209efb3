// Job roots as overlay mounts over the cached root.
#include "workspace-cache/overlay_root.h"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "runner/base/error.h"
#include "runner/base/mount_table.h"

namespace nixjail::cache {

namespace fs = std::filesystem;

namespace {

// Mount options are split at ',' and lower layers at ':'; a backslash escapes. Such paths are
// refused rather than escaped, so that what is mounted is exactly what was named.
bool fitsMountOptions(const fs::path& p) {
    return p.string().find_first_of(",:\\") == std::string::npos;
}

}  // namespace

std::string OverlayRoot::unavailableReason() {
    if (::geteuid() != 0) return "mounting an overlay needs root";
    if (!base::kernelHasFilesystem("overlay")) return "the kernel lists no overlay in /proc/filesystems (modprobe overlay)";
    return {};
}

std::string OverlayRoot::unsuitableLower(const fs::path& lower) {
    struct statfs st {};
    if (::statfs(lower.c_str(), &st) != 0) return "cannot statfs '" + lower.string() + "': " + std::strerror(errno);
    if (st.f_type == OVERLAYFS_SUPER_MAGIC)
        return "'" + lower.string() + "' is on an overlay already; a job's jail may stack only one more";
    return {};
}

OverlayRoot::OverlayRoot(const fs::path& lower, const fs::path& dst)
    : dst_(dst), layer_(dst.string() + ".layer") {
    const std::string what = "the job's root as an overlay of '" + lower.string() + "' at '" + dst.string() + "'";
    if (auto why = unavailableReason(); !why.empty()) throw base::Error(what + ": " + why);
    for (const auto& p : {lower, dst_, layer_}) {
        if (!fitsMountOptions(p))
            throw base::Error(what + ": the path '" + p.string() +
                              "' holds ',', ':' or '\\', which overlay mount options cannot carry");
    }
    if (!fs::create_directory(dst_)) throw base::Error(what + ": '" + dst_.string() + "' already exists");
    try {
        fs::create_directories(layer_ / "upper");
        fs::create_directories(layer_ / "work");
        const std::string options = "lowerdir=" + lower.string() + ",upperdir=" + (layer_ / "upper").string() +
                                    ",workdir=" + (layer_ / "work").string();
        // volatile (Linux 5.10): no syncs. Without it, unmounting the overlay syncs the whole
        // filesystem its upper layer is on (the host's disk), 30 ms and more of every job's
        // cleanup under write load, for a layer that is thrown away; after a crash the sweep
        // removes it, and it is never mounted again. Older kernels refuse the option (EINVAL).
        const std::string volatileOptions = options + ",volatile";
        if (::mount("overlay", dst_.c_str(), "overlay", MS_NOSUID | MS_NODEV, volatileOptions.c_str()) != 0 &&
            (errno != EINVAL ||
             ::mount("overlay", dst_.c_str(), "overlay", MS_NOSUID | MS_NODEV, options.c_str()) != 0))
            throw base::SysError("mounting " + what);
        mounted_ = true;
        // The mount point's own mode is the lower root's: as the cached root has it.
    } catch (...) {
        release();
        throw;
    }
}

OverlayRoot::~OverlayRoot() { release(); }

void OverlayRoot::release() noexcept {
    if (mounted_ && ::umount2(dst_.c_str(), 0) != 0) ::umount2(dst_.c_str(), MNT_DETACH);
    mounted_ = false;
    std::error_code ec;
    fs::remove(dst_, ec);  // an empty mount point now
    fs::remove_all(layer_, ec);
}

}  // namespace nixjail::cache
