// LoopDevice: an image file attached to a free loop device (/dev/loopN) with autoclear, so the
// kernel detaches it on the last close or unmount, even when the process dies first.
#pragma once

#include <filesystem>
#include <string>

#include "runner/base/unique_fd.h"

namespace nixjail::cache {

class LoopDevice {
  public:
    // Why loop devices cannot be attached here (not root, no /dev/loop-control), or empty.
    static std::string unavailableReason();

    // Attaches `image` (read-write) to a free loop device; throws base::Error naming the step.
    explicit LoopDevice(const std::filesystem::path& image);
    // Closes the device: with nothing mounted from it, the kernel detaches it now; a filesystem
    // mounted from it keeps it until unmounted.
    ~LoopDevice() = default;
    LoopDevice(LoopDevice&&) = default;
    LoopDevice& operator=(LoopDevice&&) = default;

    const std::string& path() const { return path_; }  // "/dev/loopN"

  private:
    std::string path_;
    base::UniqueFd fd_;  // held until the filesystem on it is mounted
};

}  // namespace nixjail::cache
