// Reading where the kernel keeps this process's argv and environment strings, and blanking them
// in a jail's copy of the runner.
#include "executor/namespace/process_strings.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace nixjail::executor::ns {

ProcessStrings readProcessStrings() {
    std::ifstream in("/proc/self/stat");
    const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Field 2 (the command name) is in parentheses and may hold spaces: count from after it.
    const auto close = stat.rfind(')');
    if (close == std::string::npos) return {};
    std::istringstream fields(stat.substr(close + 1));
    std::string f;
    ProcessStrings out;
    for (int field = 3; fields >> f && field <= 51; ++field) {
        const auto value = static_cast<std::uintptr_t>(std::strtoull(f.c_str(), nullptr, 10));
        if (field == 48) out.arg_start = value;
        if (field == 49) out.arg_end = value;
        if (field == 50) out.env_start = value;
        if (field == 51) out.env_end = value;
    }
    if (out.arg_end < out.arg_start || out.env_end < out.env_start) return {};
    return out;
}

void scrubProcessStrings(const ProcessStrings& s, const char* title) {
    if (s.arg_end > s.arg_start) {
        auto* args = reinterpret_cast<char*>(s.arg_start);
        const std::size_t size = s.arg_end - s.arg_start;
        std::memset(args, 0, size);
        const std::size_t len = std::strlen(title);
        if (len < size) std::memcpy(args, title, len);
    }
    if (s.env_end > s.env_start) {
        std::memset(reinterpret_cast<char*>(s.env_start), 0, s.env_end - s.env_start);
    }
}

}  // namespace nixjail::executor::ns
