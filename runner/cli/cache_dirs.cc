// Cache directory defaults, Nix tool settings and size arguments.
#include "runner/cli/cache_dirs.h"

#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include "runner/base/error.h"

extern char** environ;

namespace nixjail::runner::cli {

namespace fs = std::filesystem;

fs::path defaultCacheDir() {
    if (::geteuid() == 0) return "/var/cache/nixjail-runner";
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    if (xdg && *xdg) return fs::path(xdg) / "nixjail-runner";
    const char* home = std::getenv("HOME");
    return fs::path(home && *home ? home : "/tmp") / ".cache/nixjail-runner";
}

cache::NixTools nixToolsFromEnvironment() {
    cache::NixTools tools;
    for (char** e = environ; *e; ++e) {
        std::string kv = *e;
        if (kv.rfind("NIX_", 0) == 0 || kv.rfind("HOME=", 0) == 0) tools.env.push_back(kv);
    }
    return tools;
}

std::uint64_t parseSize(const std::string& text, const std::string& flag) {
    size_t used = 0;
    double n = 0;
    try {
        n = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    std::string unit = text.substr(used);
    std::uint64_t mult = 1;
    if (unit == "K" || unit == "KiB") mult = 1ull << 10;
    else if (unit == "M" || unit == "MiB") mult = 1ull << 20;
    else if (unit == "G" || unit == "GiB") mult = 1ull << 30;
    else if (unit == "T" || unit == "TiB") mult = 1ull << 40;
    else if (!unit.empty() && unit != "B") used = 0;
    if (used == 0 || n < 0) throw base::Error(flag + " '" + text + "': expected a size such as 512M or 10G");
    return static_cast<std::uint64_t>(n * static_cast<double>(mult));
}

}  // namespace nixjail::runner::cli
