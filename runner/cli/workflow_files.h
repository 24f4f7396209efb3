// Finding the workflow files `exec` runs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace nixjail::runner::cli {

// `given`: a file, a directory of *.yml/*.yaml, or empty for the first of .forgejo/workflows,
// .gitea/workflows, .github/workflows under `repo`. Sorted; throws base::Error when none found.
std::vector<std::filesystem::path> findWorkflowFiles(const std::filesystem::path& repo, const std::string& given);

}  // namespace nixjail::runner::cli
