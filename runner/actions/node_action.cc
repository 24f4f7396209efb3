// Helpers for JavaScript actions that need no running job.
#include "runner/actions/node_action.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "runner/base/beneath.h"
#include "runner/base/error.h"

namespace nixjail::runner::actions {

namespace fs = std::filesystem;

bool isNodeRuntime(const std::string& using_) {
    return isRetiredNodeRuntime(using_) || using_ == "node20" || using_ == "node24";
}

bool isRetiredNodeRuntime(const std::string& using_) {
    return using_ == "node12" || using_ == "node16";
}

std::string inputVariable(const std::string& input) {
    std::string out = "INPUT_";
    for (char c : input) {
        out += c == ' ' ? '_' : (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    }
    return out;
}

std::string stateVariable(const std::string& name) { return "STATE_" + name; }

fs::path findOnPath(const std::string& path, const fs::path& root, const std::string& name) {
    size_t start = 0;
    while (start <= path.size()) {
        const size_t colon = path.find(':', start);
        const std::string dir =
            path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        if (!dir.empty() && dir.front() == '/') {
            const fs::path seen = fs::path(dir) / name;
            const fs::path host = root / seen.relative_path();
            if (::access(host.c_str(), X_OK) == 0 && !fs::is_directory(host)) return seen;
        }
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    return {};
}

fs::path actionScript(const ActionLocation& where, const std::string& entry,
                      const std::string& what) {
    // GitHub bounds an entry by the action's repository, not its directory: actions/cache/restore
    // has `main: ../dist/restore-only/index.js`. So `..` is fine while the path stays in the root
    // (the fetched repository, or the workspace for a local action).
    const fs::path root = where.root.empty() ? where.host : where.root;
    const fs::path rel = fs::path(entry).lexically_normal();
    const fs::path inRoot = (where.host.lexically_relative(root) / rel).lexically_normal();
    if (entry.empty() || rel.is_absolute() || rel.begin() == rel.end() || inRoot.empty() ||
        *inRoot.begin() == ".." || inRoot == ".") {
        throw base::Error(what + " '" + entry +
                          "' must be a relative path inside the action's repository");
    }
    // Checked below the root without following a link out of it: the runner runs outside the
    // jail, and whether a host file exists is none of the action's business.
    const auto rootFd = base::openDirectoryNoFollow(root, "the action's directory");
    const auto fd = base::openBeneath(rootFd.get(), inRoot.string(), O_PATH, true);
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        throw base::Error(what + " '" + entry + "' does not exist in the action ('" +
                          (root / inRoot).string() + "')");
    }
    // The root is visible in the jail at the same place relative to the action's directory.
    return (where.jail / rel).lexically_normal();
}

}  // namespace nixjail::runner::actions
