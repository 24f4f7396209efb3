// PATH lookup against the jail's view of the filesystem (root plus binds).
#include "executor/systemd/jail_path_lookup.h"

namespace nixjail::executor::sysd {

namespace fs = std::filesystem;

fs::path hostPathOf(const fs::path& jail_path, const fs::path& root,
                    const std::vector<BindMount>& binds) {
    const auto target = jail_path.lexically_normal();
    const BindMount* best = nullptr;
    size_t bestLen = 0;
    for (const auto& b : binds) {
        auto rel = target.lexically_relative(b.jail.lexically_normal());
        if (rel.empty() || *rel.begin() == "..") continue;
        auto len = b.jail.lexically_normal().string().size();
        if (!best || len > bestLen) {
            best = &b;
            bestLen = len;
        }
    }
    if (best) {
        auto rel = target.lexically_relative(best->jail.lexically_normal());
        return rel == "." ? best->host : best->host / rel;
    }
    return root / target.relative_path();
}

std::optional<std::string> lookUpInJail(const std::string& program,
                                        const std::vector<std::string>& env, const fs::path& root,
                                        const std::vector<BindMount>& binds) {
    if (program.find('/') != std::string::npos) return program;
    std::string path = "/usr/local/bin:/usr/bin:/bin";
    for (const auto& e : env) {
        if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
    }
    size_t start = 0;
    while (start <= path.size()) {
        auto end = path.find(':', start);
        if (end == std::string::npos) end = path.size();
        std::string dir = path.substr(start, end - start);
        start = end + 1;
        if (dir.empty() || dir[0] != '/') continue;  // relative entries mean nothing in a jail
        auto candidate = fs::path(dir) / program;
        std::error_code ec;
        // symlink_status: a Nix profile's absolute symlinks point into the jail, not the host.
        auto st = fs::symlink_status(hostPathOf(candidate, root, binds), ec);
        if (!ec && fs::exists(st) && !fs::is_directory(st)) return candidate.string();
    }
    return std::nullopt;
}

}  // namespace nixjail::executor::sysd
