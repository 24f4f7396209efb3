// Parsers for the files a step writes: GITHUB_ENV, GITHUB_OUTPUT, GITHUB_STATE (NAME=VALUE or
// NAME<<DELIMITER ... DELIMITER) and GITHUB_PATH (one directory per line).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "runner/base/result.h"

namespace nixjail::runner::actions {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// `what` names the file in errors ("GITHUB_OUTPUT").
base::Result<KeyValues, std::string> parseKeyValueFile(const std::string& content, const std::string& what);

std::vector<std::string> parsePathFile(const std::string& content);

}  // namespace nixjail::runner::actions
