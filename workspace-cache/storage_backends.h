// Private: the backend factories and the tree walks the file-based backends share.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>

#include "runner/base/file_io.h"
#include "workspace-cache/storage.h"

namespace nixjail::cache {

std::unique_ptr<Storage> makeBtrfsStorage();
std::unique_ptr<Storage> makeReflinkStorage();
std::unique_ptr<Storage> makeCopyStorage();

// Copies one regular file's data from src_fd to dst_fd; throws naming `src` on failure.
using FileDataCopier =
    std::function<void(int src_fd, int dst_fd, const std::filesystem::path& src)>;

// Copies file data with copy_file_range (read/write as a fallback): base::copyFileData.
using base::copyFileData;
// Shares the data with FICLONE when both files are on one reflink-capable filesystem, else copies;
// used for copying Nix store paths, which usually live on another filesystem than the cache.
void cloneOrCopyFileData(int src_fd, int dst_fd, const std::filesystem::path& src);

// Recreates `src` at `dst` (must not exist): directories, symlinks, regular files (data through
// `copy`), modes, mtimes and, when running as root, ownership. Other file types are skipped.
void copyTree(const std::filesystem::path& src, const std::filesystem::path& dst,
              const FileDataCopier& copy);

// Removes a tree even when it holds read-only directories (as copies of Nix store paths do).
void removeTree(const std::filesystem::path& path);

}  // namespace nixjail::cache
