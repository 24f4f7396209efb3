// Workflow discovery.
#include "runner/cli/workflow_files.h"

#include <algorithm>

#include "runner/base/error.h"

namespace nixjail::runner::cli {

namespace fs = std::filesystem;

std::vector<fs::path> findWorkflowFiles(const fs::path& repo, const std::string& given) {
    std::vector<fs::path> dirs;
    if (!given.empty()) {
        fs::path p = fs::path(given).is_absolute() ? fs::path(given) : repo / given;
        if (fs::is_regular_file(p)) return {p};
        if (!fs::is_directory(p)) throw base::Error("workflow path '" + given + "' does not exist");
        dirs.push_back(p);
    } else {
        for (const char* d : {".forgejo/workflows", ".gitea/workflows", ".github/workflows"}) {
            if (fs::is_directory(repo / d)) {
                dirs.push_back(repo / d);
                break;
            }
        }
        if (dirs.empty()) {
            throw base::Error("no .forgejo/workflows, .gitea/workflows or .github/workflows in '" + repo.string() +
                              "'; name a file or directory with -W");
        }
    }
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dirs[0])) {
        const auto ext = e.path().extension();
        if (e.is_regular_file() && (ext == ".yml" || ext == ".yaml")) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) throw base::Error("no *.yml or *.yaml workflow files in '" + dirs[0].string() + "'");
    return files;
}

}  // namespace nixjail::runner::cli
