// Reading /proc/self/mountinfo.
#include "runner/base/mount_table.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace nixjail::base {

std::vector<std::string> mountPoints() {
    std::vector<std::string> out;
    std::ifstream in("/proc/self/mountinfo");
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string f;
        for (int i = 0; i < 5 && fields >> f; ++i) {
        }
        out.push_back(f);
    }
    return out;
}

bool isMountPoint(const std::filesystem::path& path) {
    const auto mounts = mountPoints();
    return std::find(mounts.begin(), mounts.end(), path.string()) != mounts.end();
}

bool kernelHasFilesystem(std::string_view type) {
    // Lines are "nodev\toverlay" or "\text4": the type is the last field.
    std::ifstream in("/proc/filesystems");
    for (std::string line; std::getline(in, line);) {
        const auto tab = line.rfind('\t');
        if (std::string_view(line).substr(tab == std::string::npos ? 0 : tab + 1) == type) return true;
    }
    return false;
}

}  // namespace nixjail::base
