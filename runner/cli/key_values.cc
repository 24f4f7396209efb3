// K=V flags and files.
#include "runner/cli/key_values.h"

#include <cstdlib>
#include <sstream>

#include "runner/base/error.h"
#include "runner/base/file_io.h"

namespace nixjail::runner::cli {

std::pair<std::string, std::string> parseKeyValue(const std::string& text, const std::string& flag, char sep,
                                                  bool from_env) {
    const size_t at = text.find(sep);
    if (at == std::string::npos) {
        if (from_env && !text.empty()) {
            const char* v = std::getenv(text.c_str());
            if (!v) throw base::Error(flag + " " + text + ": no value given and $" + text + " is not set");
            return {text, v};
        }
        throw base::Error(flag + " '" + text + "': expected KEY" + std::string(1, sep) + "VALUE");
    }
    if (at == 0) throw base::Error(flag + " '" + text + "': the key is empty");
    return {text.substr(0, at), text.substr(at + 1)};
}

std::map<std::string, std::string> readKeyValueFile(const std::filesystem::path& file) {
    std::map<std::string, std::string> out;
    std::istringstream in(base::readFile(file));
    int lineNo = 0;
    for (std::string line; std::getline(in, line);) {
        ++lineNo;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const size_t first = line.find_first_not_of(" \t");
        if (first == std::string::npos || line[first] == '#') continue;
        line = line.substr(first);
        if (line.rfind("export ", 0) == 0) line = line.substr(7);
        const size_t eq = line.find('=');
        if (eq == std::string::npos || eq == 0) {
            throw base::ConfigError(file.string(), lineNo, 1, "expected KEY=VALUE");
        }
        std::string value = line.substr(eq + 1);
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
            value = value.substr(1, value.size() - 2);
        }
        out[line.substr(0, eq)] = value;
    }
    return out;
}

}  // namespace nixjail::runner::cli
