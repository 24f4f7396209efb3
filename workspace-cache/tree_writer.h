// Private to sparse_checkout.cc: writes a git tree into an empty directory straight from the
// object database, without libgit2's checkout (no index, no stat of what it just wrote).
#pragma once

#include <git2.h>

#include <filesystem>
#include <string_view>

namespace nixjail::cache {

// Writes the entries of `tree` that `selected` matches (every entry when it is null) into the
// empty directory `dst`: files 0644 or 0755 (less the umask), symbolic links, submodules
// (gitlinks) as empty directories, and a directory only when something in it is written. Blobs
// are written as stored: no .gitattributes conversions, like libgit2's checkout did here. Throws
// base::Error naming the path for a name that git refuses to check out (see isCheckoutSafeName)
// and base::SysError or GitError naming the file that could not be read or written.
void writeTree(git_repository* repo, const git_tree* tree, const git_pathspec* selected,
               const std::filesystem::path& dst);

// Whether git (and libgit2) would check out an entry called `name` with this mode: not empty,
// ".", "..", no '/', not ".git" in any case nor an NTFS alias of it (".git.", ".git ",
// ".git:x", "git~1"), and no symbolic link named like .gitmodules.
bool isCheckoutSafeName(std::string_view name, git_filemode_t mode);

}  // namespace nixjail::cache
