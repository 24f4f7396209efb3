// Per-step command files, created with O_EXCL and read with openat2 below a held directory fd.
#include "runner/actions/step_command_files.h"

#include <unistd.h>

#include "runner/base/beneath.h"
#include "runner/base/error.h"

namespace nixjail::runner::actions {

namespace {

constexpr CommandFileKind kAll[] = {CommandFileKind::kOutput, CommandFileKind::kEnv,
                                    CommandFileKind::kPath, CommandFileKind::kState,
                                    CommandFileKind::kSummary};
constexpr const char* kDirName = "_runner_file_commands";

const char* prefixOf(CommandFileKind kind) {
    switch (kind) {
        case CommandFileKind::kOutput: return "set_output_";
        case CommandFileKind::kEnv: return "set_env_";
        case CommandFileKind::kPath: return "add_path_";
        case CommandFileKind::kState: return "save_state_";
        case CommandFileKind::kSummary: return "step_summary_";
    }
    return "unknown_";
}

}  // namespace

const char* StepCommandFiles::variableName(CommandFileKind kind) {
    switch (kind) {
        case CommandFileKind::kOutput: return "GITHUB_OUTPUT";
        case CommandFileKind::kEnv: return "GITHUB_ENV";
        case CommandFileKind::kPath: return "GITHUB_PATH";
        case CommandFileKind::kState: return "GITHUB_STATE";
        case CommandFileKind::kSummary: return "GITHUB_STEP_SUMMARY";
    }
    return "GITHUB_UNKNOWN";
}

StepCommandFiles::StepCommandFiles(int tempDirFd, const std::filesystem::path& tempJail,
                                   const std::string& id,
                                   std::optional<std::pair<uid_t, gid_t>> owner)
    : dir_(base::makeDirectoryIn(tempDirFd, kDirName, "$RUNNER_TEMP/_runner_file_commands")),
      jail_dir_(tempJail / kDirName),
      id_(id) {
    if (owner && ::fchown(dir_.get(), owner->first, owner->second) != 0) {
        throw base::SysError("cannot hand $RUNNER_TEMP/_runner_file_commands to the jail's user");
    }
    createFiles(owner);
}

StepCommandFiles::StepCommandFiles(base::UniqueFd dir, const std::filesystem::path& tempJail,
                                   const std::string& id,
                                   std::optional<std::pair<uid_t, gid_t>> owner)
    : dir_(std::move(dir)), jail_dir_(tempJail / kDirName), id_(id) {
    createFiles(owner);
}

void StepCommandFiles::createFiles(std::optional<std::pair<uid_t, gid_t>> owner) const {
    for (const auto kind : kAll) {
        base::createStepFile(dir_.get(), fileName(kind), 0644, variableName(kind), owner);
    }
}

const char* StepCommandFiles::directoryName() { return kDirName; }

std::string StepCommandFiles::fileName(CommandFileKind kind) const {
    return std::string(prefixOf(kind)) + id_;
}

std::filesystem::path StepCommandFiles::jailPath(const std::filesystem::path& tempJail,
                                                 const std::string& id, CommandFileKind kind) {
    return tempJail / kDirName / (std::string(prefixOf(kind)) + id);
}

std::vector<std::pair<std::string, std::string>> StepCommandFiles::variables() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto kind : kAll) {
        out.emplace_back(variableName(kind), (jail_dir_ / fileName(kind)).string());
    }
    return out;
}

std::string StepCommandFiles::read(CommandFileKind kind) const {
    const std::size_t limit = kind == CommandFileKind::kSummary ? kSummaryLimit : kFileLimit;
    return base::readStepFile(dir_.get(), fileName(kind), limit, variableName(kind))
        .value_or(std::string());
}

}  // namespace nixjail::runner::actions
