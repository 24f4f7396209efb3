// Sparse checkout: a commit's tree, filtered by pathspecs or git's cone mode, written into a cache
// entry (tree_writer.cc).
#include <algorithm>
#include <set>

#include "workspace-cache/checkout_cache.h"
#include "workspace-cache/content_hash.h"
#include "workspace-cache/file_lock.h"
#include "workspace-cache/git_error.h"
#include "workspace-cache/tree_writer.h"

namespace nixjail::cache {

namespace fs = std::filesystem;

namespace {

bool isFullCommitId(const std::string& rev) {
    return rev.size() == GIT_OID_HEXSZ && std::all_of(rev.begin(), rev.end(), [](char c) {
               return std::isxdigit(static_cast<unsigned char>(c));
           });
}

using GitTreeEntry = std::unique_ptr<git_tree_entry, GitDeleter<git_tree_entry, git_tree_entry_free>>;
using GitPathspec = std::unique_ptr<git_pathspec, GitDeleter<git_pathspec, git_pathspec_free>>;

// A path as a pathspec that matches only itself: wildcards and backslashes escaped.
std::string literalPathspec(const std::string& path) {
    std::string out;
    for (char c : path) {
        if (c == '*' || c == '?' || c == '[' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

// Cone mode as pathspecs: each directory (matching everything below it), plus each file directly
// in the root or in a parent of one of the directories. Empty (the whole tree) when a directory
// is the root itself.
std::vector<std::string> coneMode(git_repository* repo, git_tree* root,
                                  const std::vector<std::string>& dirs) {
    const ConeDirs cone = coneDirs(dirs);
    if (cone.whole_tree) return {};
    std::vector<std::string> specs;
    for (const auto& d : cone.dirs) specs.push_back(literalPathspec(d));
    std::set<std::string> parents = cone.parents;
    parents.insert("");
    for (const auto& parent : parents) {
        GitTree owned;
        git_tree* tree = root;
        if (!parent.empty()) {
            git_tree_entry* raw = nullptr;
            if (git_tree_entry_bypath(&raw, root, parent.c_str()) != 0) continue;
            GitTreeEntry entry(raw);
            if (git_tree_entry_type(entry.get()) != GIT_OBJECT_TREE) continue;
            git_tree* sub = nullptr;
            checkGit(git_tree_lookup(&sub, repo, git_tree_entry_id(entry.get())),
                     "cannot read directory '" + parent + "' of the commit");
            owned.reset(sub);
            tree = sub;
        }
        for (size_t i = 0; i < git_tree_entrycount(tree); ++i) {
            const git_tree_entry* e = git_tree_entry_byindex(tree, i);
            if (git_tree_entry_type(e) != GIT_OBJECT_BLOB) continue;
            const std::string name = git_tree_entry_name(e);
            specs.push_back(literalPathspec(parent.empty() ? name : parent + "/" + name));
        }
    }
    return specs;
}

}  // namespace

ConeDirs coneDirs(const std::vector<std::string>& paths) {
    ConeDirs cone;
    for (std::string d : paths) {
        while (!d.empty() && d.front() == '/') d.erase(0, 1);
        while (!d.empty() && d.back() == '/') d.pop_back();
        if (d.empty()) {
            cone.whole_tree = true;
            continue;
        }
        cone.dirs.insert(d);
        for (auto slash = d.find('/'); slash != std::string::npos; slash = d.find('/', slash + 1))
            cone.parents.insert(d.substr(0, slash));
    }
    for (const auto& d : cone.dirs) cone.parents.erase(d);
    return cone;
}

void checkoutCommit(const fs::path& mirror, const std::string& commit,
                    const std::vector<std::string>& paths, const fs::path& dst, SparseMode mode) {
    GitLibrary lib;
    git_repository* raw = nullptr;
    checkGit(git_repository_open_bare(&raw, mirror.c_str()),
             "cannot open git mirror '" + mirror.string() + "'");
    GitRepository repo(raw);
    git_oid oid;
    checkGit(git_oid_fromstr(&oid, commit.c_str()), "invalid commit id '" + commit + "'");
    git_commit* commit_raw = nullptr;
    checkGit(git_commit_lookup(&commit_raw, repo.get(), &oid),
             "commit '" + commit + "' is not in mirror '" + mirror.string() + "'");
    GitCommit c(commit_raw);
    git_tree* tree_raw = nullptr;
    checkGit(git_commit_tree(&tree_raw, c.get()),
             "cannot read the tree of commit '" + commit + "'");
    GitTree tree(tree_raw);

    const std::vector<std::string> selected =
        mode == SparseMode::kCone && !paths.empty() ? coneMode(repo.get(), tree.get(), paths) : paths;
    std::vector<char*> specs;
    for (const auto& p : selected) specs.push_back(const_cast<char*>(p.c_str()));
    GitPathspec pathspec;
    if (!specs.empty()) {
        git_pathspec* ps = nullptr;
        const git_strarray array{specs.data(), specs.size()};
        std::string listed;
        for (const auto& p : selected) listed += (listed.empty() ? "'" : ", '") + p + "'";
        checkGit(git_pathspec_new(&ps, &array), "cannot read the sparse paths " + listed);
        pathspec.reset(ps);
    }
    writeTree(repo.get(), tree.get(), pathspec.get(), dst);
}

CheckoutResult CheckoutCache::checkout(const CheckoutRequest& request, const fs::path& dst) {
    CheckoutResult result;
    std::optional<std::string> commit;
    if (isFullCommitId(request.rev)) commit = mirrors_.resolve(request.url, request.rev);
    if (!commit) {
        mirrors_.fetch(request.url, request.credentials);
        result.fetched = true;
        commit = mirrors_.resolve(request.url, request.rev);
        if (!commit)
            throw base::Error("revision '" + request.rev + "' not found in '" + request.url +
                              "' after fetching its branches, tags and pull refs; is it pushed?");
    }
    result.commit = *commit;

    std::vector<std::string> paths = request.sparse_paths;
    std::sort(paths.begin(), paths.end());
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
    std::optional<GitDirRequest> git = request.git_dir;
    if (git) {
        if (git->ref.empty()) git->ref = request.rev;
        if (git->origin_url.empty()) git->origin_url = request.url;
    }
    // Everything that shapes the entry is in its key.
    std::string key_text = request.url + '\0' + result.commit;
    for (const auto& p : paths) key_text += '\0' + p;
    if (request.sparse_mode == SparseMode::kCone && !paths.empty()) key_text += std::string("\0cone", 5);
    if (git) {
        key_text += std::string("\0.git\0", 6) + std::to_string(git->depth) + '\0' +
                    (git->fetch_tags ? "tags" : "") + '\0' + git->ref + '\0' + git->origin_url;
    }

    fs::path mirror = mirrors_.mirrorPath(request.url);
    EntryPin pin = entries_.acquire(sha256Hex(key_text), [&](const fs::path& tree) {
        FileLock lock(mirrors_.lockPath(request.url));
        lock.lock(LockMode::kShared);  // keep a concurrent fetch from pruning under us
        checkoutCommit(mirror, result.commit, paths, tree, request.sparse_mode);
        if (git)
            writeGitDir(entries_.storage(), mirror, result.commit, *git, paths, request.sparse_mode, tree);
    });
    result.hit = pin.hit();
    if (request.list_submodules) {
        FileLock lock(mirrors_.lockPath(request.url));
        lock.lock(LockMode::kShared);
        result.submodules = listSubmodules(mirror, result.commit);
    }
    result.workspace = SubvolumeLease::snapshotOf(entries_.storage(), pin.path(), dst);
    return result;
}

}  // namespace nixjail::cache
