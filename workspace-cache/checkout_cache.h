// CheckoutCache: (remote, commit, sparse paths, .git shape) checked out once into a cache entry,
// then one snapshot per job. Without a GitDirRequest the workspace holds the files only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "workspace-cache/entry_store.h"
#include "workspace-cache/git_mirror.h"
#include "workspace-cache/storage.h"
#include "workspace-cache/submodules.h"

namespace nixjail::cache {

// How `sparse_paths` select files.
enum class SparseMode {
    kPatterns,  // pathspecs ("src", "docs/*.md"): only what they match
    kCone,      // directories, as git's cone mode: everything below each, plus the files directly
                // in the root and in each of their parent directories (actions/checkout's default)
};

// The workspace's .git, as actions/checkout leaves it.
struct GitDirRequest {
    // 0: the mirror's whole history, its branches as origin's and its tags. N: the commits at most
    // N - 1 parents away from the checked-out one (and from the tags, with fetch_tags), the
    // boundary listed in .git/shallow, only the ref that was asked for.
    int depth = 1;
    bool fetch_tags = false;
    // The ref HEAD is named after (default: the request's rev). A branch (refs/heads/X, or a name
    // the mirror knows as a branch) gives HEAD on a local branch X tracking origin/X; a tag gives
    // refs/tags/X and a detached HEAD; anything else a detached HEAD.
    std::string ref;
    std::string origin_url;  // origin's URL (default: the request's url); never holds a token
};

struct CheckoutRequest {
    std::string url;
    std::string rev;                        // commit id, branch or tag
    std::vector<std::string> sparse_paths;  // empty: whole tree
    std::optional<GitCredentials> credentials;
    // Also give the workspace a .git: objects from the mirror, `origin`, HEAD at the commit, an
    // index in which paths outside `sparse_paths` are skip-worktree, and git's sparse-checkout
    // settings.
    std::optional<GitDirRequest> git_dir;
    // Also list the commit's submodules (CheckoutResult::submodules) for the caller to check out.
    bool list_submodules = false;
    SparseMode sparse_mode = SparseMode::kPatterns;
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

// actions/checkout's persist-credentials: the workspace repository at `tree` authenticates to
// `server_url` with `token` (git's http.<url>.extraheader, Basic x-access-token:<token>), so git
// in later steps can fetch and push. Give it the token as the job sees it (its dummy, which the
// job's proxy swaps), never a real one the job was not given.
void persistCredentials(const std::filesystem::path& tree, const std::string& server_url,
                        const std::string& token);

// Private to CheckoutCache: turns the checked-out `tree` into a repository (see git_dir); `url`
// and the sparse selection come from the request, `git` is filled in (ref, origin_url).
void writeGitDir(Storage& storage, const std::filesystem::path& mirror, const std::string& commit,
                 const GitDirRequest& git, const std::vector<std::string>& sparse_paths,
                 SparseMode mode, const std::filesystem::path& tree);

// Private to CheckoutCache: cone mode's directories read from sparse paths ("/src/lib/" is
// "src/lib"), and the parent directories of those (not themselves listed), whose files cone mode
// keeps. `whole_tree` when a path names the root itself.
struct ConeDirs {
    std::set<std::string> dirs;
    std::set<std::string> parents;
    bool whole_tree = false;
};
ConeDirs coneDirs(const std::vector<std::string>& paths);

// Private to CheckoutCache, exposed for tests: writes `commit`'s tree (limited to `paths` when
// not empty, read as `mode` says) from the bare repository at `mirror` into the existing
// directory `dst`.
void checkoutCommit(const std::filesystem::path& mirror, const std::string& commit,
                    const std::vector<std::string>& paths, const std::filesystem::path& dst,
                    SparseMode mode = SparseMode::kPatterns);

}  // namespace nixjail::cache
