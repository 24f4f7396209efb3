// The key-value file format shared by GITHUB_ENV, GITHUB_OUTPUT and GITHUB_STATE.
#include "runner/actions/command_file.h"

#include <sstream>

namespace nixjail::runner::actions {

namespace {
std::string stripCr(std::string s) {
    if (!s.empty() && s.back() == '\r') s.pop_back();
    return s;
}
}  // namespace

base::Result<KeyValues, std::string> parseKeyValueFile(const std::string& content, const std::string& what) {
    KeyValues out;
    std::vector<std::string> lines;
    {
        std::istringstream in(content);
        for (std::string l; std::getline(in, l);) lines.push_back(stripCr(l));
    }
    for (size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        if (line.empty()) continue;
        const size_t eq = line.find('=');
        const size_t heredoc = line.find("<<");
        const std::string where = what + " line " + std::to_string(i + 1);
        if (heredoc != std::string::npos && (eq == std::string::npos || heredoc < eq)) {
            std::string name = line.substr(0, heredoc);
            std::string delim = line.substr(heredoc + 2);
            if (name.empty()) return base::unexpected(where + ": a name is required before '<<'");
            if (delim.empty()) return base::unexpected(where + ": a delimiter is required after '<<'");
            std::string value;
            bool closed = false;
            bool first = true;
            for (++i; i < lines.size(); ++i) {
                if (lines[i] == delim) {
                    closed = true;
                    break;
                }
                if (!first) value += '\n';
                value += lines[i];
                first = false;
            }
            if (!closed) return base::unexpected(where + ": matching delimiter '" + delim + "' not found");
            out.emplace_back(name, value);
        } else if (eq != std::string::npos) {
            std::string name = line.substr(0, eq);
            if (name.empty()) return base::unexpected(where + ": a name is required before '='");
            out.emplace_back(name, line.substr(eq + 1));
        } else {
            return base::unexpected(where + ": invalid format '" + line + "' (expected NAME=VALUE or NAME<<DELIMITER)");
        }
    }
    return out;
}

std::vector<std::string> parsePathFile(const std::string& content) {
    std::vector<std::string> out;
    std::istringstream in(content);
    for (std::string l; std::getline(in, l);) {
        l = stripCr(l);
        if (!l.empty()) out.push_back(l);
    }
    return out;
}

}  // namespace nixjail::runner::actions
