// Shells for `run:` steps: Actions' templates, with `{0}` standing for the script file.
#pragma once

#include <string>
#include <vector>

namespace nixjail::runner::workflow {

struct ShellCommand {
    std::vector<std::string> argv;  // with the script path substituted
    std::string script_suffix;      // ".sh", ".py", ...
};

// Empty when `shell` is usable, else why not ("unknown shell 'zsh'; ...").
std::string shellTemplateError(const std::string& shell);

// The template for `shell` (bash, sh, python, pwsh or a custom line containing {0}).
// `shell` empty means the default: bash when `bash_available`, else sh.
std::string shellTemplate(const std::string& shell, bool bash_available);

// Splits the template on whitespace (as the runner does) and substitutes the script path.
ShellCommand shellCommand(const std::string& shell, bool bash_available, const std::string& script_path);

// Splits on blanks; double quotes group words and are removed.
std::vector<std::string> splitCommandLine(const std::string& line);

std::string scriptSuffix(const std::string& shell, bool bash_available);

}  // namespace nixjail::runner::workflow
