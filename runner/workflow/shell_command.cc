// Actions' shell templates.
#include "runner/workflow/shell_command.h"

#include <sstream>

namespace nixjail::runner::workflow {

namespace {
std::string firstWord(const std::string& s) {
    std::istringstream in(s);
    std::string w;
    in >> w;
    return w;
}
}  // namespace

std::vector<std::string> splitCommandLine(const std::string& line) {
    std::vector<std::string> out;
    std::string cur;
    bool inWord = false, quoted = false;
    for (char c : line) {
        if (c == '"') {
            quoted = !quoted;
            inWord = true;
        } else if (!quoted && (c == ' ' || c == '\t')) {
            if (inWord) out.push_back(cur);
            cur.clear();
            inWord = false;
        } else {
            cur += c;
            inWord = true;
        }
    }
    if (inWord) out.push_back(cur);
    return out;
}

std::string shellTemplateError(const std::string& shell) {
    if (shell == "bash" || shell == "sh" || shell == "python" || shell == "pwsh") return "";
    if (shell.find("{0}") != std::string::npos) return "";
    if (shell == "cmd" || shell == "powershell") {
        return "shell '" + shell + "' runs only on Windows runners; use bash, sh, python, pwsh or a "
               "command line with {0}";
    }
    return "unknown shell '" + shell +
           "'; use bash, sh, python, pwsh or a command line containing {0} for the script path";
}

std::string shellTemplate(const std::string& shell, bool bash_available) {
    if (shell.empty()) return bash_available ? "bash -e {0}" : "sh -e {0}";
    if (shell == "bash") return "bash --noprofile --norc -eo pipefail {0}";
    if (shell == "sh") return "sh -e {0}";
    if (shell == "python") return "python {0}";
    if (shell == "pwsh") return "pwsh -command \". '{0}'\"";
    return shell;
}

std::string scriptSuffix(const std::string& shell, bool bash_available) {
    std::string name = shell.empty() ? (bash_available ? "bash" : "sh") : firstWord(shell);
    if (name == "bash" || name == "sh") return ".sh";
    if (name == "python" || name == "python3") return ".py";
    if (name == "pwsh") return ".ps1";
    return "";
}

ShellCommand shellCommand(const std::string& shell, bool bash_available, const std::string& script_path) {
    ShellCommand cmd;
    cmd.script_suffix = scriptSuffix(shell, bash_available);
    for (auto word : splitCommandLine(shellTemplate(shell, bash_available))) {
        size_t at;
        while ((at = word.find("{0}")) != std::string::npos) word.replace(at, 3, script_path);
        cmd.argv.push_back(word);
    }
    return cmd;
}

}  // namespace nixjail::runner::workflow
