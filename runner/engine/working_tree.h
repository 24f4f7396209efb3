// Copying a local working tree into a job's workspace (what actions/checkout means in exec mode).
#pragma once

#include <filesystem>

namespace nixjail::runner::engine {

// Copies the files git would show (tracked and untracked, not ignored) and the .git directory;
// a directory that is no git repository is copied whole. Symlinks stay symlinks. `to` is emptied
// first (as actions/checkout's `clean: true` leaves only the checkout), so nothing a job left
// there, such as a link to a host directory, is ever written through; `to` must not be a link.
void copyWorkingTree(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace nixjail::runner::engine
