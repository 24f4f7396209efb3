// Finds a step's program inside the jail the way execvp would, before systemd-run runs: systemd-run
// would otherwise look a bare name up in the host's PATH.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "executor/executor.h"

namespace nixjail::executor::sysd {

// The host path that `jail_path` (absolute, inside the jail) shows: the longest matching bind,
// else the root.
std::filesystem::path hostPathOf(const std::filesystem::path& jail_path,
                                 const std::filesystem::path& root,
                                 const std::vector<BindMount>& binds);

// `program` unchanged when it contains '/', else the first PATH entry (from `env`) under which
// it exists in the jail; nullopt when none does.
std::optional<std::string> lookUpInJail(const std::string& program,
                                        const std::vector<std::string>& env,
                                        const std::filesystem::path& root,
                                        const std::vector<BindMount>& binds);

}  // namespace nixjail::executor::sysd
