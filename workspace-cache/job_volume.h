// JobVolume: a job's own filesystem of a fixed size, so that what the job writes (workspace, home,
// runner temp, tool cache) cannot fill the host's disk: a sparse image file, formatted as ext4
// and mounted from a loop device. The image takes only the space the job uses; a job that writes
// more than the size gets ENOSPC. Checkouts into it are copies, since no snapshot or reflink
// reaches across filesystems.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace nixjail::cache {

class JobVolume {
  public:
    // Why a job volume cannot be made here (not root, no loop devices, no ext4 in the kernel, no
    // mkfs.ext4), or empty.
    static std::string unavailableReason();

    // Creates `image` (which must not exist) of `size_bytes`, formats it and mounts it at
    // `mount_point` (created; nodev, nosuid). Throws base::Error naming the step and the fix.
    JobVolume(std::filesystem::path image, std::filesystem::path mount_point,
              std::uint64_t size_bytes);
    // Unmounts (lazily if something still holds it), which detaches the loop device, and
    // deletes the image and the mount point.
    ~JobVolume();
    JobVolume(const JobVolume&) = delete;
    JobVolume& operator=(const JobVolume&) = delete;

    const std::filesystem::path& path() const { return mount_point_; }
    std::uint64_t sizeBytes() const { return size_bytes_; }

    struct Usage {
        std::uint64_t used_bytes = 0;
        std::uint64_t available_bytes = 0;
    };
    // What the job has used and what is left to it (statvfs).
    Usage usage() const;

  private:
    void release() noexcept;

    std::filesystem::path image_;
    std::filesystem::path mount_point_;
    std::uint64_t size_bytes_;
    bool mounted_ = false;
};

}  // namespace nixjail::cache
