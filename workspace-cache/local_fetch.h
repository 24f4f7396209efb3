// Private: fetching from a repository on this machine (file:// or an absolute path) with git's own
// CLI, which sends the source's packs as they are; libgit2's local transport packs the whole
// history itself, object by object, and is an order of magnitude slower on a large repository.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace nixjail::cache {

// Whether `url` names a repository on this machine: a file:// URL or an absolute path.
bool isLocalRemote(const std::string& url);

// The absolute path of `git` in the runner's PATH, or nullopt when git is not installed.
std::optional<std::filesystem::path> findGitProgram();

// Runs `git fetch --prune --no-tags url refspecs...` into the bare repository `mirror`, ignoring
// the system's and the user's git config. Throws naming `url`, git's exit code and the last lines
// of its stderr.
void fetchWithGitCli(const std::filesystem::path& git, const std::string& url,
                     const std::filesystem::path& mirror, const std::vector<std::string>& refspecs);

}  // namespace nixjail::cache
