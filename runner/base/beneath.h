// Files under a directory that a job can change (its workspace, temp, home), reached by the runner
// without following symbolic links and without leaving that directory. The runner runs outside the
// jail and as root: a path it resolves the ordinary way would follow a link the job planted to any
// host file. Everything here resolves relative to a directory fd the runner holds.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "runner/base/error.h"
#include "runner/base/unique_fd.h"

namespace nixjail::base {

// Opens `rel` (relative; "" or "." is the directory itself) below the directory `dirFd` without
// ever leaving it: openat2 with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, and RESOLVE_NO_SYMLINKS
// unless `followInside` (then links are followed as long as they stay below `dirFd`). Where
// openat2 is missing, walks `rel` one component at a time with O_NOFOLLOW (and refuses every link).
// Returns an invalid fd with errno set on failure: ELOOP for a link, EXDEV for a path leaving the
// directory, the open's own errno otherwise.
UniqueFd openBeneath(int dirFd, const std::string& rel, int flags, bool followInside = false);

// Opens a directory to hold (O_PATH is not enough for *at calls that create): `path` itself must
// not be a link. Throws SysError naming `what`.
UniqueFd openDirectoryNoFollow(const std::filesystem::path& path, const std::string& what);

// A step file over the size the runner reads (see readStepFile).
class StepFileTooLarge : public Error {
  public:
    StepFileTooLarge(const std::string& what, std::size_t size, std::size_t limit);
    std::size_t limit() const { return limit_; }
    // At least this many bytes (the read stops one chunk past the limit).
    std::size_t size() const { return size_; }

  private:
    std::size_t size_, limit_;
};

// Reads the file `name` directly in `dirFd` the way the runner reads what a step left there:
// never through a link, only a regular file with one link (a hard link could alias a file the
// step may not write), at most `maxBytes` (more throws StepFileTooLarge). A missing file reads as nullopt. Anything else throws
// Error with `what` as its subject: "GITHUB_ENV was replaced by a symbolic link; refusing to read
// it". The open does not block on a FIFO.
std::optional<std::string> readStepFile(int dirFd, const std::string& name, std::size_t maxBytes,
                                        const std::string& what);

// Reads the regular file `rel` below `dirFd`, following links only while they stay below it, at
// most `maxBytes` (more throws StepFileTooLarge); missing: nullopt; anything else throws Error
// naming `what`. For files the runner reads from a tree it did not write itself (an action's
// action.yml in the workspace or from the network).
std::optional<std::string> readFileBeneath(int dirFd, const std::string& rel, std::size_t maxBytes,
                                           const std::string& what);

// Creates the file `name` directly in `dirFd` for a step to write: it must not exist (O_EXCL, no
// link followed), mode `mode`, owned by uid:gid when given. Throws SysError naming `what`.
UniqueFd createStepFile(int dirFd, const std::string& name, int mode, const std::string& what,
                        std::optional<std::pair<uid_t, gid_t>> owner = std::nullopt);

// createStepFile (no owner), then `content` written to it: a file the runner gives a step to read,
// such as its script. Throws SysError naming `what`.
void writeStepFile(int dirFd, const std::string& name, int mode, std::string_view content,
                   const std::string& what);

// Makes `name` a directory directly in `dirFd` (kept if it is one already; refused if it is a
// link or anything else) and opens it. Throws Error naming `what`.
UniqueFd makeDirectoryIn(int dirFd, const std::string& name, const std::string& what);

// The first component of `rel` below `base` that is not a plain directory (a link, a file,
// anything else), as a path relative to `base`; nullopt when every component that exists is a
// directory reached without a link. Components that do not exist end the walk. `rel` must be
// relative and free of "..". For use when no process of the job runs (between steps): it checks
// with lstat, so a concurrent rename could race it.
std::optional<std::filesystem::path> firstNonDirectoryBeneath(const std::filesystem::path& base,
                                                              const std::filesystem::path& rel);

// `base / rel`, checked for the runner to act on as root outside the jail when an earlier step may
// have replaced a directory on the way with a link to a host directory: throws Error naming
// `what` when `rel` leaves `base` ("points outside the workspace"), runs through a link or a file,
// or is itself a link. Components that do not exist yet are fine. Between steps only (lstat).
std::filesystem::path plainPathBeneath(const std::filesystem::path& base, const std::string& rel,
                                       const std::string& what);

// `rel` with "." removed, or nullopt when it is absolute or climbs out with "..".
std::optional<std::filesystem::path> normalizedBeneath(const std::filesystem::path& rel);

}  // namespace nixjail::base
