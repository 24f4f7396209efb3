// Fetching remote actions (`owner/repo[/path]@ref`) with git into a cache directory, outside the jail.
#pragma once

#include <filesystem>
#include <string>

namespace nixjail::runner::actions {

struct ActionRef {
    std::string owner, repo, path, ref;
    std::string repository() const { return owner + "/" + repo; }
};

// Parses `owner/repo[/path]@ref`; throws base::Error explaining the expected form.
ActionRef parseActionRef(const std::string& uses);

// Returns the directory of the action (with `path` applied), fetching `base_url/owner/repo` at
// `ref` into cache_dir the first time. Concurrent callers for the same ref are serialised.
std::filesystem::path fetchAction(const ActionRef& ref, const std::string& base_url,
                                  const std::filesystem::path& cache_dir);

}  // namespace nixjail::runner::actions
