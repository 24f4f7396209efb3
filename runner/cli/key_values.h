// Parsing repeated K=V flags and dotenv-style files for `exec`.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace nixjail::runner::cli {

// "K=V" -> (K, V); "K" alone takes V from the environment variable K (as act does for secrets).
// Throws base::Error naming the flag when the form is wrong or the variable is unset.
std::pair<std::string, std::string> parseKeyValue(const std::string& text, const std::string& flag,
                                                  char sep = '=', bool from_env = false);

// KEY=VALUE lines; blank lines and # comments skipped; optional surrounding quotes removed.
std::map<std::string, std::string> readKeyValueFile(const std::filesystem::path& file);

}  // namespace nixjail::runner::cli
