// Finding an executable the way a shell does, without running one.
#pragma once

#include <filesystem>
#include <string>

namespace nixjail::base {

// The first `<dir>/<name>` that is executable, for each absolute `dir` of the colon-separated
// `dirs` (relative entries, which would depend on the current directory, are skipped); empty
// when there is none. Without `dirs`: this process's PATH.
std::filesystem::path findProgram(const std::string& name);
std::filesystem::path findProgram(const std::string& name, const std::string& dirs);

}  // namespace nixjail::base
