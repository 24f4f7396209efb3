// hashFiles(): the SHA-256 of the SHA-256 digests of the files the patterns select, as the
// Actions runner computes it, without ever reading outside the workspace.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace nixjail::runner::expr {

// Patterns are @actions/glob patterns (see glob_pattern.h) relative to `workspace`; a first
// argument "--follow-symbolic-links" makes the walk follow symlinked directories (still only
// inside the workspace). Files are visited depth first, each directory in byte order of names,
// one walk per search root in pattern order. Returns "" when no file matches. Throws base::Error
// when the workspace cannot be read or a selected file cannot be opened.
std::string hashFiles(const std::filesystem::path& workspace,
                      const std::vector<std::string>& patterns);

}  // namespace nixjail::runner::expr
