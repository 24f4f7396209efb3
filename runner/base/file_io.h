// Whole-file reads and writes with errors that name the file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace nixjail::base {

std::string readFile(const std::filesystem::path& path);
// Writes via a temporary file and rename, so readers never see a half-written file.
void writeFileAtomic(const std::filesystem::path& path, std::string_view content, int mode = 0644);
void writeFile(const std::filesystem::path& path, std::string_view content);
// All of `content` to `fd`, retrying short writes and EINTR; throws SysError("writing " + what).
void writeAll(int fd, std::string_view content, const std::string& what);
// The rest of `in`'s data appended to `out`, in the kernel where it can (copy_file_range), else
// by read and write; throws SysError naming `src`.
void copyFileData(int in, int out, const std::filesystem::path& src);

// The first of `path` and its ancestors that others may not search (no o+x), or empty: what
// keeps a process of another user (a jail's setup) from reaching `path`.
std::filesystem::path firstNotSearchableByOthers(const std::filesystem::path& path);

}  // namespace nixjail::base
