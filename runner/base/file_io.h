// Whole-file reads and writes with errors that name the file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace nixjail::base {

std::string readFile(const std::filesystem::path& path);
// Writes via a temporary file and rename, so readers never see a half-written file.
void writeFileAtomic(const std::filesystem::path& path, std::string_view content, int mode = 0644);
void writeFile(const std::filesystem::path& path, std::string_view content);
void appendFile(const std::filesystem::path& path, std::string_view content);

}  // namespace nixjail::base
