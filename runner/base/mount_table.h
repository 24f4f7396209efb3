// The mount points this process sees (/proc/self/mountinfo): what a sweep must not delete
// through, and what tests check was unmounted.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace nixjail::base {

// Every mount point, as mountinfo's field 5 spells it (octal escapes for spaces left as they are,
// which only makes callers' checks more cautious).
std::vector<std::string> mountPoints();

// Whether something is mounted at exactly `path`.
bool isMountPoint(const std::filesystem::path& path);

}  // namespace nixjail::base
