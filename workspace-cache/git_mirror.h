// GitMirrors: one bare libgit2 mirror per remote URL, fetched incrementally. Credentials go to
// libgit2 through a callback for one fetch; they are never written to any config.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runner/base/secret.h"

namespace nixjail::cache {

class GitLibrary;

struct GitCredentials {
    std::string username = "x-access-token";  // Forgejo/Gitea accept any name with a token
    base::Secret token;
};

struct MirrorInfo {
    std::string url;
    std::uint64_t size_bytes = 0;
    std::chrono::system_clock::time_point last_used;  // last fetch or resolve
};

class GitMirrors {
  public:
    // Mirrors live under `dir` as `<sha256(url)>.git`, with `.lock` and `.done` beside them.
    explicit GitMirrors(std::filesystem::path dir);
    ~GitMirrors();
    GitMirrors(const GitMirrors&) = delete;
    GitMirrors& operator=(const GitMirrors&) = delete;

    // Fetches branches, tags and pull refs of `url` into its mirror, creating or (when a
    // previous fetch died half-way) recreating it. Returns the mirror's path. A repository on
    // this machine (file:// or an absolute path) is fetched with git's CLI when git is installed,
    // anything else with libgit2.
    std::filesystem::path fetch(const std::string& url,
                                const std::optional<GitCredentials>& creds = {});
    // The commit id `rev` (a full or abbreviated id, a branch, a tag, a full ref) names in the
    // mirror of `url`, or nullopt when the mirror does not have it (fetch first).
    std::optional<std::string> resolve(const std::string& url, const std::string& rev) const;

    // Complete mirrors, least recently used first.
    std::vector<MirrorInfo> list() const;
    // Removes least recently used mirrors that nobody is fetching or reading until the total is
    // within `budget_bytes`, and half-fetched ones. Returns the removed URLs ("" when unknown).
    std::vector<std::string> prune(std::uint64_t budget_bytes);

    std::filesystem::path mirrorPath(const std::string& url) const;
    std::filesystem::path lockPath(const std::string& url) const;
    bool isComplete(const std::string& url) const;

  private:
    std::unique_ptr<GitLibrary> lib_;
    std::filesystem::path dir_;
};

}  // namespace nixjail::cache
