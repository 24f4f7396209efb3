// A workspace .git made from a mirror, as actions/checkout leaves it: the whole history (objects
// shared by reflink where possible) or a shallow one packed from the commits within the depth;
// origin; HEAD on a local branch or detached; an index matching the (sparse) working tree; git's
// sparse-checkout settings.
#include <sys/stat.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <system_error>

#include "runner/base/base64.h"
#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "workspace-cache/checkout_cache.h"
#include "workspace-cache/git_error.h"

namespace nixjail::cache {

namespace fs = std::filesystem;

namespace {

using GitReference = std::unique_ptr<git_reference, GitDeleter<git_reference, git_reference_free>>;
using GitReferenceIterator =
    std::unique_ptr<git_reference_iterator,
                    GitDeleter<git_reference_iterator, git_reference_iterator_free>>;
using GitPackbuilder =
    std::unique_ptr<git_packbuilder, GitDeleter<git_packbuilder, git_packbuilder_free>>;
using GitConfig = std::unique_ptr<git_config, GitDeleter<git_config, git_config_free>>;

std::string hex(const git_oid& oid) {
    char out[GIT_OID_HEXSZ + 1] = {};
    git_oid_tostr(out, sizeof out, &oid);
    return out;
}

git_oid oidOf(const std::string& commit) {
    git_oid oid;
    checkGit(git_oid_fromstr(&oid, commit.c_str()), "invalid commit id '" + commit + "'");
    return oid;
}

// Copies the mirror's object store (packs, loose objects) into the new repository's.
void copyObjects(Storage& storage, const fs::path& from, const fs::path& to) {
    std::error_code ec;
    for (const auto& de : fs::directory_iterator(from, ec)) {
        fs::path dst = to / de.path().filename();
        if (de.is_directory() && fs::exists(dst)) {
            copyObjects(storage, de.path(), dst);
        } else if (!fs::exists(dst)) {
            storage.copyIn(de.path(), dst);
        }
    }
    if (ec)
        throw base::Error("cannot list git objects in '" + from.string() + "': " + ec.message());
}

// The mirror's direct refs under `prefix` (refs/heads/, refs/tags/), by name.
std::map<std::string, git_oid> refsUnder(git_repository* mirror, const std::string& prefix) {
    git_reference_iterator* it_raw = nullptr;
    checkGit(git_reference_iterator_glob_new(&it_raw, mirror, (prefix + "*").c_str()),
             "cannot list refs of the git mirror");
    GitReferenceIterator it(it_raw);
    std::map<std::string, git_oid> out;
    git_reference* ref_raw = nullptr;
    while (git_reference_next(&ref_raw, it.get()) == 0) {
        GitReference ref(ref_raw);
        if (git_reference_type(ref.get()) != GIT_REFERENCE_DIRECT) continue;
        out.emplace(git_reference_name(ref.get()) + prefix.size(), *git_reference_target(ref.get()));
    }
    return out;
}

void makeRef(git_repository* repo, const std::string& name, const git_oid& target) {
    git_reference* made = nullptr;
    checkGit(git_reference_create(&made, repo, name.c_str(), &target, 1, nullptr),
             "cannot create ref '" + name + "' in the workspace repository");
    git_reference_free(made);
}

// The commit a tag (annotated or not) finally points at, if it is one.
std::optional<git_oid> peeledCommit(git_repository* repo, const git_oid& target) {
    git_object* obj = nullptr;
    if (git_object_lookup(&obj, repo, &target, GIT_OBJECT_ANY) != 0) return std::nullopt;
    GitObject owned(obj);
    git_object* peeled = nullptr;
    if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) != 0) return std::nullopt;
    GitObject peeledOwned(peeled);
    return *git_object_id(peeled);
}

// Puts `tree_id` and the trees below it in the pack, skipping trees already there; a blob only
// when `want_blob(path)` says so.
void insertTrees(git_packbuilder* pb, git_repository* repo, const git_oid& tree_id, const std::string& prefix,
                 const std::function<bool(const std::string&)>& want_blob, std::set<std::string>& seen) {
    if (!seen.insert(hex(tree_id)).second) return;
    checkGit(git_packbuilder_insert(pb, &tree_id, prefix.empty() ? nullptr : prefix.c_str()),
             "cannot pack tree '" + prefix + "' for the workspace");
    git_tree* raw = nullptr;
    checkGit(git_tree_lookup(&raw, repo, &tree_id), "tree '" + hex(tree_id) + "' missing in the mirror");
    GitTree tree(raw);
    for (size_t i = 0; i < git_tree_entrycount(tree.get()); ++i) {
        const git_tree_entry* e = git_tree_entry_byindex(tree.get(), i);
        const std::string path = prefix + git_tree_entry_name(e);
        if (git_tree_entry_type(e) == GIT_OBJECT_TREE) {
            insertTrees(pb, repo, *git_tree_entry_id(e), path + "/", want_blob, seen);
        } else if (git_tree_entry_type(e) == GIT_OBJECT_BLOB && want_blob(path)) {
            checkGit(git_packbuilder_insert(pb, git_tree_entry_id(e), path.c_str()),
                     "cannot pack '" + path + "' for the workspace");
        }
    }
}

// Packs the commits at most depth - 1 parents away from `tips` (with their trees and, for the
// annotated ones among `tags`, the tag objects) into `objects/pack`, and writes the boundary
// (commits in the pack whose parents are not) to `shallow`. Breadth first, so a commit reached
// on two paths counts its shorter distance, as git's --depth does. With `worktree` (a sparse
// checkout), blobs are packed only for the files written there, as actions/checkout's partial
// clone (--filter=blob:none) fetches them; the pack is then marked as from a promisor remote, so
// git fetches any other blob from origin when asked.
void packShallow(git_repository* mirror, const git_oid& head, const std::vector<git_oid>& tips,
                 const std::vector<git_oid>& tags, int depth, const fs::path* worktree,
                 const fs::path& git_dir) {
    GitPackbuilder pb;
    {
        git_packbuilder* raw = nullptr;
        checkGit(git_packbuilder_new(&raw, mirror), "cannot start a pack for the workspace");
        pb.reset(raw);
    }
    git_packbuilder_set_threads(pb.get(), 0);  // one per CPU
    std::set<std::string> seenTrees;
    auto insert = [&](const git_oid& oid, git_commit* c) {
        if (!worktree) {
            checkGit(git_packbuilder_insert_commit(pb.get(), &oid),
                     "cannot pack commit '" + hex(oid) + "' for the workspace");
            return;
        }
        checkGit(git_packbuilder_insert(pb.get(), &oid, nullptr), "cannot pack commit '" + hex(oid) + "'");
        const bool isHead = git_oid_equal(&oid, &head);
        insertTrees(pb.get(), mirror, *git_commit_tree_id(c), "", [&](const std::string& path) {
            struct stat st {};
            return isHead && ::lstat((*worktree / path).c_str(), &st) == 0;
        }, seenTrees);
    };
    std::map<std::string, int> distance;
    std::deque<git_oid> queue;
    for (const auto& t : tips) {
        if (distance.emplace(hex(t), 0).second) queue.push_back(t);
    }
    std::set<std::string> boundary;
    while (!queue.empty()) {
        const git_oid oid = queue.front();
        queue.pop_front();
        const int d = distance.at(hex(oid));
        git_commit* raw = nullptr;
        checkGit(git_commit_lookup(&raw, mirror, &oid), "commit '" + hex(oid) + "' missing in the mirror");
        GitCommit c(raw);
        insert(oid, c.get());
        const unsigned parents = git_commit_parentcount(c.get());
        if (parents > 0 && d + 1 >= depth) {
            boundary.insert(hex(oid));
            continue;
        }
        for (unsigned i = 0; i < parents; ++i) {
            const git_oid* p = git_commit_parent_id(c.get(), i);
            if (distance.emplace(hex(*p), d + 1).second) queue.push_back(*p);
        }
    }
    for (const auto& t : tags) {
        checkGit(git_packbuilder_insert(pb.get(), &t, nullptr), "cannot pack tag '" + hex(t) + "'");
    }
    const fs::path pack_dir = git_dir / "objects" / "pack";
    checkGit(git_packbuilder_write(pb.get(), pack_dir.c_str(), 0, nullptr, nullptr),
             "cannot write the workspace's pack in '" + pack_dir.string() + "'");
    if (worktree) base::writeFile(pack_dir / ("pack-" + std::string(git_packbuilder_name(pb.get())) + ".promisor"), "");
    std::string shallow;
    for (const auto& b : boundary) shallow += b + "\n";
    if (!shallow.empty()) base::writeFile(git_dir / "shallow", shallow);
}

// A partial clone's settings: origin promises the blobs the pack left out.
void markPartialClone(const fs::path& git_dir) {
    git_config* raw = nullptr;
    checkGit(git_config_open_ondisk(&raw, (git_dir / "config").c_str()),
             "cannot open '" + (git_dir / "config").string() + "'");
    GitConfig config(raw);
    checkGit(git_config_set_int32(config.get(), "core.repositoryformatversion", 1), "cannot set core.repositoryformatversion");
    checkGit(git_config_set_string(config.get(), "extensions.partialclone", "origin"), "cannot set extensions.partialclone");
    checkGit(git_config_set_bool(config.get(), "remote.origin.promisor", 1), "cannot set remote.origin.promisor");
    checkGit(git_config_set_string(config.get(), "remote.origin.partialclonefilter", "blob:none"),
             "cannot set remote.origin.partialclonefilter");
}

// What HEAD is named after.
struct HeadRef {
    std::string branch;  // HEAD on refs/heads/<branch>
    std::string tag;     // detached, with refs/tags/<tag>
};

// actions/checkout puts HEAD on a local branch for a branch (even when it asked for an older
// commit of it, as for the triggering commit of a push), detaches it for anything else.
HeadRef headRefFor(const std::string& ref, const std::map<std::string, git_oid>& branches,
                   const std::map<std::string, git_oid>& tags) {
    if (ref.starts_with("refs/heads/")) return {ref.substr(11), ""};
    if (ref.starts_with("refs/tags/")) return {"", ref.substr(10)};
    if (ref.starts_with("refs/")) return {};
    if (branches.count(ref)) return {ref, ""};
    if (tags.count(ref)) return {"", ref};
    return {};
}

// git's cone-mode sparse-checkout file for `dirs`: the root's files, each directory whole, and
// the files of its parents.
std::string coneFile(const std::vector<std::string>& dirs) {
    const ConeDirs cone = coneDirs(dirs);
    std::string out = "/*\n!/*/\n";
    for (const auto& p : cone.parents) out += "/" + p + "/\n!/" + p + "/*/\n";
    for (const auto& w : cone.dirs) out += "/" + w + "/\n";
    return out;
}

void writeSparseSettings(git_repository* repo, const fs::path& git_dir,
                         const std::vector<std::string>& paths, SparseMode mode) {
    git_config* raw = nullptr;
    checkGit(git_repository_config(&raw, repo), "cannot open the workspace repository's config");
    GitConfig config(raw);
    checkGit(git_config_set_bool(config.get(), "core.sparseCheckout", 1),
             "cannot set core.sparseCheckout");
    checkGit(git_config_set_bool(config.get(), "core.sparseCheckoutCone", mode == SparseMode::kCone),
             "cannot set core.sparseCheckoutCone");
    std::string file;
    if (mode == SparseMode::kCone) {
        file = coneFile(paths);
    } else {
        for (const auto& p : paths) file += p + "\n";
    }
    fs::create_directories(git_dir / "info");
    base::writeFile(git_dir / "info" / "sparse-checkout", file);
}

void setUpstream(git_repository* repo, const std::string& branch) {
    git_config* raw = nullptr;
    checkGit(git_repository_config(&raw, repo), "cannot open the workspace repository's config");
    GitConfig config(raw);
    checkGit(git_config_set_string(config.get(), ("branch." + branch + ".remote").c_str(), "origin"),
             "cannot set the upstream of branch '" + branch + "'");
    checkGit(git_config_set_string(config.get(), ("branch." + branch + ".merge").c_str(),
                                   ("refs/heads/" + branch).c_str()),
             "cannot set the upstream of branch '" + branch + "'");
}

}  // namespace

void writeGitDir(Storage& storage, const fs::path& mirror_path, const std::string& commit,
                 const GitDirRequest& git, const std::vector<std::string>& sparse_paths,
                 SparseMode mode, const fs::path& tree) {
    if (git.depth < 0) throw base::Error("fetch depth " + std::to_string(git.depth) + " is negative");
    GitLibrary lib;
    git_repository* raw = nullptr;
    checkGit(git_repository_open_bare(&raw, mirror_path.c_str()),
             "cannot open git mirror '" + mirror_path.string() + "'");
    GitRepository mirror(raw);
    checkGit(git_repository_init(&raw, tree.c_str(), /*is_bare=*/0),
             "cannot create repository in '" + tree.string() + "'");
    GitRepository repo(raw);
    const fs::path git_dir = tree / ".git";
    const git_oid oid = oidOf(commit);

    const auto branches = refsUnder(mirror.get(), "refs/heads/");
    const auto tags = refsUnder(mirror.get(), "refs/tags/");
    const HeadRef head = headRefFor(git.ref, branches, tags);

    // Objects and the refs that point into them.
    std::map<std::string, git_oid> remoteBranches, keptTags;
    if (git.depth == 0) {
        copyObjects(storage, mirror_path / "objects", git_dir / "objects");
        remoteBranches = branches;
        keptTags = tags;
    } else {
        std::vector<git_oid> tips{oid}, tagObjects;
        if (git.fetch_tags) keptTags = tags;
        if (!head.tag.empty() && tags.count(head.tag)) keptTags.emplace(head.tag, tags.at(head.tag));
        for (auto it = keptTags.begin(); it != keptTags.end();) {
            const auto peeled = peeledCommit(mirror.get(), it->second);
            if (!peeled) {  // a tag of a tree or blob: not fetched along
                it = keptTags.erase(it);
                continue;
            }
            tips.push_back(*peeled);
            if (!git_oid_equal(&*peeled, &it->second)) tagObjects.push_back(it->second);
            ++it;
        }
        packShallow(mirror.get(), oid, tips, tagObjects, git.depth, sparse_paths.empty() ? nullptr : &tree, git_dir);
        if (!head.branch.empty()) remoteBranches.emplace(head.branch, oid);
    }

    git_remote* remote = nullptr;
    checkGit(git_remote_create(&remote, repo.get(), "origin", git.origin_url.c_str()),
             "cannot add remote 'origin' to '" + tree.string() + "'");
    git_remote_free(remote);
    for (const auto& [name, target] : remoteBranches) makeRef(repo.get(), "refs/remotes/origin/" + name, target);
    for (const auto& [name, target] : keptTags) makeRef(repo.get(), "refs/tags/" + name, target);

    if (!head.branch.empty()) {
        makeRef(repo.get(), "refs/heads/" + head.branch, oid);
        setUpstream(repo.get(), head.branch);
        checkGit(git_repository_set_head(repo.get(), ("refs/heads/" + head.branch).c_str()),
                 "cannot put HEAD on branch '" + head.branch + "'");
    } else {
        checkGit(git_repository_set_head_detached(repo.get(), &oid),
                 "cannot set HEAD to '" + commit + "'");
    }

    git_commit* c_raw = nullptr;
    checkGit(git_commit_lookup(&c_raw, repo.get(), &oid),
             "commit '" + commit + "' missing after copying objects");
    GitCommit c(c_raw);
    git_tree* t_raw = nullptr;
    checkGit(git_commit_tree(&t_raw, c.get()), "cannot read the tree of commit '" + commit + "'");
    GitTree t(t_raw);
    if (git.depth > 0 && !sparse_paths.empty()) {
        // The pack lacks the blobs left out, which marking their entries skip-worktree looks up:
        // let this handle (never the repository on disk) read them from the mirror.
        git_odb* odb = nullptr;
        checkGit(git_repository_odb(&odb, repo.get()), "cannot open the objects of '" + tree.string() + "'");
        const int rc = git_odb_add_disk_alternate(odb, (mirror_path / "objects").c_str());
        git_odb_free(odb);
        checkGit(rc, "cannot read the mirror's objects while indexing '" + tree.string() + "'");
    }
    git_index* idx_raw = nullptr;
    checkGit(git_repository_index(&idx_raw, repo.get()),
             "cannot open the index of '" + tree.string() + "'");
    GitIndex index(idx_raw);
    checkGit(git_index_read_tree(index.get(), t.get()),
             "cannot fill the index from '" + commit + "'");
    // Files the sparse checkout left out are skip-worktree, so `git status` does not call them
    // deleted.
    for (size_t i = 0; i < git_index_entrycount(index.get()); ++i) {
        const git_index_entry* e = git_index_get_byindex(index.get(), i);
        std::string path = e->path;  // git_index_add replaces (frees) the entry `e` points to
        struct stat st {};
        if (::lstat((tree / path).c_str(), &st) == 0) continue;
        git_index_entry copy = *e;
        copy.path = path.c_str();
        copy.flags_extended |= GIT_INDEX_ENTRY_SKIP_WORKTREE;
        checkGit(git_index_add(index.get(), &copy), "cannot mark '" + path + "' skip-worktree");
    }
    checkGit(git_index_write(index.get()), "cannot write the index of '" + tree.string() + "'");
    if (!sparse_paths.empty()) writeSparseSettings(repo.get(), git_dir, sparse_paths, mode);
    // Last: libgit2 does not open a repository with the partialclone extension.
    if (git.depth > 0 && !sparse_paths.empty()) markPartialClone(git_dir);
}

void persistCredentials(const fs::path& tree, const std::string& server_url, const std::string& token) {
    GitLibrary lib;
    // The config file itself: libgit2 does not open a partial clone's repository.
    git_config* config_raw = nullptr;
    checkGit(git_config_open_ondisk(&config_raw, (tree / ".git" / "config").c_str()),
             "cannot open the config of '" + tree.string() + "'");
    GitConfig config(config_raw);
    std::string url = server_url;
    if (!url.ends_with('/')) url += '/';
    const std::string header = "AUTHORIZATION: basic " + base::base64Encode("x-access-token:" + token);
    checkGit(git_config_set_string(config.get(), ("http." + url + ".extraheader").c_str(), header.c_str()),
             "cannot store the checkout's credentials in '" + tree.string() + "'");
}

}  // namespace nixjail::cache
