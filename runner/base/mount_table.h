// The mount points this process sees (/proc/self/mountinfo): what a sweep must not delete
// through, and what tests check was unmounted; and the filesystems the kernel can mount.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace nixjail::base {

// Every mount point, as mountinfo's field 5 spells it (octal escapes for spaces left as they are,
// which only makes callers' checks more cautious).
std::vector<std::string> mountPoints();

// Whether something is mounted at exactly `path`.
bool isMountPoint(const std::filesystem::path& path);

// Whether the kernel lists the filesystem `type` (ext4, overlay, btrfs) in /proc/filesystems.
bool kernelHasFilesystem(std::string_view type);

}  // namespace nixjail::base
