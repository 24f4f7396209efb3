// BtrfsLoopMount: a fresh btrfs on a loop device, mounted in a private temp dir, for tests.
// Everything is undone in the destructor: unmount, detach, delete the image.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "runner/base/temp_dir.h"

namespace nixjail::testing {

class BtrfsLoopMount {
  public:
    // Why a btrfs loop mount cannot be made here (not root, no btrfs, no mkfs.btrfs, no loop
    // devices), or empty when it probably can.
    static std::string unavailableReason();

    // Creates, formats and mounts an image of `size_bytes`; throws base::Error naming the step.
    explicit BtrfsLoopMount(std::uint64_t size_bytes = 256ull << 20);
    ~BtrfsLoopMount();
    BtrfsLoopMount(const BtrfsLoopMount&) = delete;
    BtrfsLoopMount& operator=(const BtrfsLoopMount&) = delete;

    const std::filesystem::path& mountPoint() const { return mount_point_; }
    const std::string& loopDevice() const { return loop_device_; }

  private:
    base::TempDir dir_;
    std::filesystem::path image_;
    std::filesystem::path mount_point_;
    std::string loop_device_;
    bool mounted_ = false;
};

}  // namespace nixjail::testing
