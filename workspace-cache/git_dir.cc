// A workspace .git made from a mirror: objects shared by reflink where possible, refs copied,
// HEAD detached at the checked-out commit, index matching the (sparse) working tree.
#include <sys/stat.h>

#include <system_error>

#include "runner/base/error.h"
#include "workspace-cache/checkout_cache.h"
#include "workspace-cache/git_error.h"

namespace nixjail::cache {

namespace fs = std::filesystem;

namespace {

using GitReference = std::unique_ptr<git_reference, GitDeleter<git_reference, git_reference_free>>;
using GitReferenceIterator =
    std::unique_ptr<git_reference_iterator,
                    GitDeleter<git_reference_iterator, git_reference_iterator_free>>;

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

// Branches become origin's remote-tracking branches; tags stay tags.
void copyRefs(git_repository* mirror, git_repository* repo) {
    git_reference_iterator* it_raw = nullptr;
    checkGit(git_reference_iterator_new(&it_raw, mirror), "cannot list refs of the git mirror");
    GitReferenceIterator it(it_raw);
    git_reference* ref_raw = nullptr;
    while (git_reference_next(&ref_raw, it.get()) == 0) {
        GitReference ref(ref_raw);
        if (git_reference_type(ref.get()) != GIT_REFERENCE_DIRECT) continue;
        std::string name = git_reference_name(ref.get());
        std::string target;
        if (name.starts_with("refs/heads/"))
            target = "refs/remotes/origin/" + name.substr(11);
        else if (name.starts_with("refs/tags/"))
            target = name;
        else
            continue;
        git_reference* made = nullptr;
        checkGit(git_reference_create(&made, repo, target.c_str(), git_reference_target(ref.get()),
                                      1, nullptr),
                 "cannot create ref '" + target + "' in workspace repository");
        git_reference_free(made);
    }
}

}  // namespace

void writeGitDir(Storage& storage, const fs::path& mirror_path, const std::string& url,
                 const std::string& commit, const fs::path& tree) {
    GitLibrary lib;
    git_repository* raw = nullptr;
    checkGit(git_repository_open_bare(&raw, mirror_path.c_str()),
             "cannot open git mirror '" + mirror_path.string() + "'");
    GitRepository mirror(raw);
    checkGit(git_repository_init(&raw, tree.c_str(), /*is_bare=*/0),
             "cannot create repository in '" + tree.string() + "'");
    GitRepository repo(raw);

    copyObjects(storage, mirror_path / "objects", tree / ".git" / "objects");
    git_remote* remote = nullptr;
    checkGit(git_remote_create(&remote, repo.get(), "origin", url.c_str()),
             "cannot add remote 'origin' to '" + tree.string() + "'");
    git_remote_free(remote);
    copyRefs(mirror.get(), repo.get());

    git_oid oid;
    checkGit(git_oid_fromstr(&oid, commit.c_str()), "invalid commit id '" + commit + "'");
    checkGit(git_repository_set_head_detached(repo.get(), &oid),
             "cannot set HEAD to '" + commit + "'");

    git_commit* c_raw = nullptr;
    checkGit(git_commit_lookup(&c_raw, repo.get(), &oid),
             "commit '" + commit + "' missing after copying objects");
    GitCommit c(c_raw);
    git_tree* t_raw = nullptr;
    checkGit(git_commit_tree(&t_raw, c.get()), "cannot read the tree of commit '" + commit + "'");
    GitTree t(t_raw);
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
}

}  // namespace nixjail::cache
