// The files a step writes its commands to (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH, GITHUB_STATE,
// GITHUB_STEP_SUMMARY): made fresh for each step in $RUNNER_TEMP/_runner_file_commands and read
// back after it through a directory fd opened here, never by path, never through a link. The
// runner reads them as root outside the jail; the step may have replaced any of them (or their
// directory) with a link to a host file, a FIFO, a hard link or a huge file.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runner/base/unique_fd.h"

namespace nixjail::runner::actions {

enum class CommandFileKind { kOutput, kEnv, kPath, kState, kSummary };

class StepCommandFiles {
  public:
    // The most the runner reads of a summary (GitHub's limit) and of each other file.
    static constexpr std::size_t kSummaryLimit = 1024 * 1024;
    static constexpr std::size_t kFileLimit = 64 * 1024 * 1024;

    // Makes the directory (if the job removed it, again) below the job's temp directory
    // `tempDirFd` and the five empty files for step `id`, owned by `owner` (the jail's step
    // user) when given. `tempJail` is the temp directory as steps see it.
    StepCommandFiles(int tempDirFd, const std::filesystem::path& tempJail, const std::string& id,
                     std::optional<std::pair<uid_t, gid_t>> owner);
    // The five files in `dir` itself (a step's own tmpfs, whose root is already the step user's),
    // which steps see at $RUNNER_TEMP/_runner_file_commands as well (jailPath holds).
    StepCommandFiles(base::UniqueFd dir, const std::filesystem::path& tempJail, const std::string& id,
                     std::optional<std::pair<uid_t, gid_t>> owner);

    // "_runner_file_commands": the directory below $RUNNER_TEMP.
    static const char* directoryName();

    // GITHUB_OUTPUT=<path as steps see it>, ... for the step's environment.
    std::vector<std::pair<std::string, std::string>> variables() const;

    // What the step wrote ("" if it removed the file). Throws base::Error when the step put
    // anything but a regular file there, and StepFileTooLarge past the limits above.
    std::string read(CommandFileKind kind) const;

    static const char* variableName(CommandFileKind kind);

    // Where step `id`'s file of `kind` is, as steps see it (`tempJail` as in the constructor).
    static std::filesystem::path jailPath(const std::filesystem::path& tempJail,
                                          const std::string& id, CommandFileKind kind);

  private:
    std::string fileName(CommandFileKind kind) const;
    void createFiles(std::optional<std::pair<uid_t, gid_t>> owner) const;

    base::UniqueFd dir_;
    std::filesystem::path jail_dir_;
    std::string id_;
};

}  // namespace nixjail::runner::actions
