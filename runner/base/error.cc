// Message formatting for the error hierarchy.
#include "runner/base/error.h"

#include <cstring>

namespace nixjail::base {

SysError::SysError(const std::string& what, int err)
    : Error(what + ": " + std::strerror(err)), errno_(err) {}

namespace {
std::string positioned(const std::string& file, int line, int col, const std::string& message) {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line);
    if (line > 0 && col > 0) out += ":" + std::to_string(col);
    return out.empty() ? message : out + ": " + message;
}
}  // namespace

ConfigError::ConfigError(std::string file, int line, int col, const std::string& message)
    : Error(positioned(file, line, col, message)), file_(std::move(file)), line_(line), col_(col) {}

}  // namespace nixjail::base
