// OverlayRoot: a job's writable root over a cached one in constant time on any filesystem (a copy
// on ext4 took tens of milliseconds per job; a btrfs snapshot is as fast but only where the job's
// directory is on the cache's filesystem): an overlay mount whose only lower layer is the cached
// root, its upper and work directories beside the mount point. The job's writes land in the
// upper directory; the cached root is never written.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

namespace nixjail::cache {

class OverlayRoot {
  public:
    // Why an overlay cannot be mounted here (not root, no overlay in the kernel), or empty.
    static std::string unavailableReason();
    // Why an overlay over `lower` should not be made, or empty: `lower` is itself on an overlay
    // (a container's root), where one more layer plus the jail's own would pass the kernel's
    // limit of two stacked overlays.
    static std::string unsuitableLower(const std::filesystem::path& lower);

    // Mounts the overlay of `lower` at `dst` (created; must not exist), with its upper and work
    // directories in `<dst>.layer/`. Throws base::Error naming the mount and why it failed (a
    // path mount options cannot carry, an upper filesystem without the xattrs overlayfs needs).
    OverlayRoot(const std::filesystem::path& lower, const std::filesystem::path& dst);
    // Unmounts (lazily where something still holds it) and removes the mount point and the layer
    // directories.
    ~OverlayRoot();
    OverlayRoot(const OverlayRoot&) = delete;
    OverlayRoot& operator=(const OverlayRoot&) = delete;

    const std::filesystem::path& path() const { return dst_; }
    // The directory holding the job's own writes (upper) and overlayfs' work directory.
    const std::filesystem::path& layerDir() const { return layer_; }

  private:
    void release() noexcept;

    std::filesystem::path dst_;
    std::filesystem::path layer_;
    bool mounted_ = false;
};

}  // namespace nixjail::cache
