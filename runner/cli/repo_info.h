// What `exec` knows about the local repository: the github context fields a forge would send.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>

namespace nixjail::runner::cli {

// repository, repository_owner, sha, ref, ref_name, ref_type, actor, server_url, api_url,
// graphql_url; from git when `dir` is a repository, else placeholders naming the directory.
nlohmann::json localGithubContext(const std::filesystem::path& dir);

}  // namespace nixjail::runner::cli
