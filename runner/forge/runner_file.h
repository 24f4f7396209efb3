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
// Offline registration (Forgejo's `forgejo-cli actions register --secret`): the secret is 40 hex
// characters; the runner token is the whole secret and the UUID is its first 16 characters
// taken as the 16 raw UUID bytes. Throws base::Error on a malformed secret.
RunnerFile runnerFileFromSecret(const std::string& address, const std::string& secret,
                                const std::string& name);

// Atomic write with mode 0600, 2-space JSON like the reference runners.
void writeRunnerFile(const std::filesystem::path& path, const RunnerFile& file);

}  // namespace nixjail::runner::forge
