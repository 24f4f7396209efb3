// The .runner file: the credentials Register returned, kept with mode 0600.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "runner/base/secret.h"

namespace nixjail::runner::forge {

struct RunnerFile {
    int64_t id = 0;
    std::string uuid;
    std::string name;
    base::Secret token;
    std::string address;              // forge base URL, without /api/actions
    std::vector<std::string> labels;  // full label strings
    bool ephemeral = false;
};

// Throws base::Error naming the file and the missing/invalid key.
RunnerFile readRunnerFile(const std::filesystem::path& path);
// Atomic write with mode 0600, 2-space JSON like the reference runners.
void writeRunnerFile(const std::filesystem::path& path, const RunnerFile& file);

}  // namespace nixjail::runner::forge
