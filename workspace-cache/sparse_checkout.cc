// Sparse checkout: libgit2 writes a commit's tree, filtered by pathspecs or git's cone mode, into
// a cache entry.
#include <algorithm>
#include <set>

#include "workspace-cache/checkout_cache.h"
#include "workspace-cache/content_hash.h"
#include "workspace-cache/file_lock.h"
#include "workspace-cache/git_error.h"

namespace nixjail::cache {

namespace fs = std::filesystem;

namespace {

bool isFullCommitId(const std::string& rev) {
    return rev.size() == GIT_OID_HEXSZ && std::all_of(rev.begin(), rev.end(), [](char c) {
               return std::isxdigit(static_cast<unsigned char>(c));
           });
}

using GitTreeEntry = std::unique_ptr<git_tree_entry, GitDeleter<git_tree_entry, git_tree_entry_free>>;

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
    // libgit2 refuses to check out a gitlink (submodule) from a bare repository ("cannot get
    // submodules without a working tree"); give this in-memory handle `dst` as its working tree
    // (update_gitlink = 0 writes nothing to the mirror). Submodules become empty directories.
    checkGit(git_repository_set_workdir(repo.get(), dst.c_str(), 0),
             "cannot use '" + dst.string() + "' as the working tree of '" + mirror.string() + "'");
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

    // Compare against an empty index, not the mirror's HEAD, so every selected file is written;
    // and never touch the mirror's own index, which concurrent checkouts share.
    git_index* index_raw = nullptr;
    checkGit(git_index_new(&index_raw), "cannot create an in-memory git index");
    GitIndex empty(index_raw);

    const std::vector<std::string> selected =
        mode == SparseMode::kCone && !paths.empty() ? coneMode(repo.get(), tree.get(), paths) : paths;
    std::vector<char*> specs;
    for (const auto& p : selected) specs.push_back(const_cast<char*>(p.c_str()));
    git_checkout_options opts = GIT_CHECKOUT_OPTIONS_INIT;
    opts.checkout_strategy =
        GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX | GIT_CHECKOUT_DONT_WRITE_INDEX;
    opts.target_directory = dst.c_str();
    opts.baseline_index = empty.get();
    opts.paths = {specs.data(), specs.size()};
    checkGit(git_checkout_tree(repo.get(), reinterpret_cast<const git_object*>(tree.get()), &opts),
             "cannot check out commit '" + commit + "' into '" + dst.string() + "'");
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
