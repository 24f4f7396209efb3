// A shared library opened with dlopen when it is first needed instead of linked, for libraries
// most runs never call (libcurl, libgit2): each would otherwise be loaded, with all it needs, into
// every nixjail-runner process at start. The callers say what they look up in it.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace nixjail::base {

// Where a library is looked for, in order: its soname (the dynamic linker's search path), then the
// same name in `found_dir`, the directory the build found it in (a Nix store path on NixOS, where
// no global search path holds it), when that is known.
std::vector<std::string> sharedLibraryCandidates(const std::string& soname, const std::filesystem::path& found_dir);

// Opens the first candidate that dlopen opens (RTLD_NOW | RTLD_LOCAL) and `bind` accepts: `bind`
// looks up what the caller needs through the handle and returns empty, or why this is not the
// library wanted (it is closed again then). The handle stays open for the life of the process.
// Throws base::Error: "<what> cannot be loaded:", each candidate and why it failed, then `install`.
void* openSharedLibrary(const std::vector<std::string>& candidates, const std::function<std::string(void*)>& bind,
                        const std::string& what, const std::string& install);

}  // namespace nixjail::base
