// Submodules of a commit in a git mirror: what `.gitmodules` declares, paired with the gitlink
// entries of the commit's tree, so each can be checked out through the same cache.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace nixjail::cache {

struct Submodule {
    std::string name;
    std::string path;    // in the superproject's tree
    std::string url;     // as written in .gitmodules (may be relative, see resolveSubmoduleUrl)
    std::string commit;  // the gitlink's commit id
};

// One `[submodule "NAME"]` section of a .gitmodules file; `commit` is left empty. Throws
// base::Error naming the line for text that is not git config syntax.
std::vector<Submodule> parseGitmodules(std::string_view text);

// The submodules of `commit` in the bare repository `mirror`: gitlinks of its tree that
// .gitmodules names (as git does, a gitlink without an entry is not a submodule).
std::vector<Submodule> listSubmodules(const std::filesystem::path& mirror,
                                      const std::string& commit);

// git's rule: a URL starting with "./" or "../" is relative to the superproject's URL.
std::string resolveSubmoduleUrl(const std::string& super_url, const std::string& url);

}  // namespace nixjail::cache
