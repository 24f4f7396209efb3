// Private: run a tool to completion and capture its standard output.
#pragma once

#include <string>
#include <vector>

namespace nixjail::cache {

struct CommandOutput {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs `argv` with the current environment plus `extra_env` (KEY=VALUE, replacing the process's
// own KEY); throws only when it cannot start.
CommandOutput runCommand(const std::vector<std::string>& argv,
                         const std::vector<std::string>& extra_env);

// Splits output into non-empty lines.
std::vector<std::string> outputLines(const std::string& text);

}  // namespace nixjail::cache
