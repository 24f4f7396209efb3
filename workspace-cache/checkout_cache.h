// CheckoutCache: (remote, commit, sparse paths) checked out once into a cache entry, then one
// snapshot per job. The workspace holds the files only (no .git directory).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "workspace-cache/entry_store.h"
#include "workspace-cache/git_mirror.h"
#include "workspace-cache/storage.h"
#include "workspace-cache/submodules.h"

namespace nixjail::cache {

struct CheckoutRequest {
    std::string url;
    std::string rev;                        // commit id, branch or tag
    std::vector<std::string> sparse_paths;  // pathspecs ("src", "docs/*.md"); empty: whole tree
    std::optional<GitCredentials> credentials;
    // Also give the workspace a .git with the mirror's history (objects reflinked or copied),
    // `origin` pointing at `url` (never the token), HEAD detached at the commit, and an index in
    // which paths outside `sparse_paths` are skip-worktree. Needed for fetch-depth: 0.
    bool with_git_dir = false;
    // Also list the commit's submodules (CheckoutResult::submodules) for the caller to check out.
    bool list_submodules = false;
};

struct CheckoutResult {
    SubvolumeLease workspace;  // the job's writable copy; removed when this is destroyed
    std::string commit;        // the full commit id checked out
    bool hit = false;          // the checkout entry was already cached
    bool fetched = false;      // the mirror had to be fetched
    std::vector<Submodule> submodules;  // with list_submodules; urls as written in .gitmodules
};

class CheckoutCache {
  public:
    CheckoutCache(Storage& storage, std::filesystem::path dir, GitMirrors& mirrors)
        : entries_(storage, std::move(dir)), mirrors_(mirrors) {}

    // Fetches only when the mirror lacks `rev` (a branch name is always re-fetched, since it
    // moves); then snapshots the cached checkout to `dst`, which must not exist.
    CheckoutResult checkout(const CheckoutRequest& request, const std::filesystem::path& dst);
    std::vector<EntryInfo> list() const { return entries_.list(); }
    std::vector<std::string> prune(std::uint64_t budget_bytes) {
        return entries_.prune(budget_bytes);
    }

  private:
    EntryStore entries_;
    GitMirrors& mirrors_;
};

// Private to CheckoutCache: turns the checked-out `tree` into a repository (see with_git_dir).
void writeGitDir(Storage& storage, const std::filesystem::path& mirror, const std::string& url,
                 const std::string& commit, const std::filesystem::path& tree);

// Private to CheckoutCache, exposed for tests: writes `commit`'s tree (limited to `paths` when
// not empty) from the bare repository at `mirror` into the existing directory `dst`.
void checkoutCommit(const std::filesystem::path& mirror, const std::string& commit,
                    const std::vector<std::string>& paths, const std::filesystem::path& dst);

}  // namespace nixjail::cache
