// Copying a local working tree into a job's workspace (what actions/checkout means in exec mode).
#pragma once

#include <filesystem>

namespace nixjail::runner::engine {

// Copies the files git would show (tracked and untracked, not ignored) and the .git directory;
// a directory that is no git repository is copied whole. Symlinks stay symlinks.
void copyWorkingTree(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace nixjail::runner::engine
