// PATH lookup.
#include "runner/base/find_program.h"

#include <unistd.h>

#include <cstdlib>

namespace nixjail::base {

std::filesystem::path findProgram(const std::string& name) {
    const char* path = std::getenv("PATH");
    return findProgram(name, path ? path : "");
}

std::filesystem::path findProgram(const std::string& name, const std::string& dirs) {
    for (size_t at = 0; at <= dirs.size();) {
        size_t end = dirs.find(':', at);
        if (end == std::string::npos) end = dirs.size();
        const std::string dir = dirs.substr(at, end - at);
        if (!dir.empty() && dir.front() == '/') {
            const std::filesystem::path candidate = std::filesystem::path(dir) / name;
            if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        }
        at = end + 1;
    }
    return {};
}

}  // namespace nixjail::base
