// Loading libgit2 with dlopen, and the libgit2 functions the project calls, each forwarding to it
// (see git2_library.h).
#include "workspace-cache/git2_library.h"

#include <dlfcn.h>
// Every definition below must match its declaration here (the compiler rejects a C function
// declared twice with different types), so a prototype cannot drift from the library's.
#include <git2.h>
#include <git2/sys/path.h>

#include <cstddef>

#include "runner/base/shared_library.h"

// Every libgit2 function the project calls, one per line: the return type, the name, the
// parameters as <git2.h> declares them, and the arguments passed on. The list is what the linker
// reported undefined once libgit2 was no longer linked, for nixjail-runner and for every test and
// benchmark. None is variadic: a C function taking `...` could not pass its arguments on.
// clang-format off
#define NIXJAIL_GIT2_FUNCTIONS(X) \
    X(void, git_blob_free, (git_blob* blob), (blob)) \
    X(int, git_blob_lookup, (git_blob** blob, git_repository* repo, const git_oid* id), (blob, repo, id)) \
    X(const void*, git_blob_rawcontent, (const git_blob* blob), (blob)) \
    X(git_object_size_t, git_blob_rawsize, (const git_blob* blob), (blob)) \
    X(int, git_clone, (git_repository** out, const char* url, const char* local_path, const git_clone_options* options), (out, url, local_path, options)) \
    X(void, git_commit_free, (git_commit* commit), (commit)) \
    X(int, git_commit_lookup, (git_commit** commit, git_repository* repo, const git_oid* id), (commit, repo, id)) \
    X(const git_oid*, git_commit_parent_id, (const git_commit* commit, unsigned int n), (commit, n)) \
    X(unsigned int, git_commit_parentcount, (const git_commit* commit), (commit)) \
    X(int, git_commit_tree, (git_tree** tree_out, const git_commit* commit), (tree_out, commit)) \
    X(const git_oid*, git_commit_tree_id, (const git_commit* commit), (commit)) \
    X(void, git_config_free, (git_config* cfg), (cfg)) \
    X(int, git_config_open_ondisk, (git_config** out, const char* path), (out, path)) \
    X(int, git_config_set_bool, (git_config* cfg, const char* name, int value), (cfg, name, value)) \
    X(int, git_config_set_int32, (git_config* cfg, const char* name, int32_t value), (cfg, name, value)) \
    X(int, git_config_set_string, (git_config* cfg, const char* name, const char* value), (cfg, name, value)) \
    X(int, git_credential_userpass_plaintext_new, (git_credential** out, const char* username, const char* password), (out, username, password)) \
    X(const git_error*, git_error_last, (), ()) \
    X(int, git_index_add, (git_index* index, const git_index_entry* source_entry), (index, source_entry)) \
    X(size_t, git_index_entrycount, (const git_index* index), (index)) \
    X(void, git_index_free, (git_index* index), (index)) \
    X(const git_index_entry*, git_index_get_byindex, (git_index* index, size_t n), (index, n)) \
    X(int, git_index_read_tree, (git_index* index, const git_tree* tree), (index, tree)) \
    X(int, git_index_write, (git_index* index), (index)) \
    X(int, git_libgit2_init, (), ()) \
    X(int, git_libgit2_shutdown, (), ()) \
    X(void, git_object_free, (git_object* object), (object)) \
    X(const git_oid*, git_object_id, (const git_object* obj), (obj)) \
    X(int, git_object_lookup, (git_object** object, git_repository* repo, const git_oid* id, git_object_t type), (object, repo, id, type)) \
    X(int, git_object_peel, (git_object** peeled, const git_object* object, git_object_t target_type), (peeled, object, target_type)) \
    X(int, git_odb_add_disk_alternate, (git_odb* odb, const char* path), (odb, path)) \
    X(void, git_odb_free, (git_odb* db), (db)) \
    X(const void*, git_odb_object_data, (git_odb_object* object), (object)) \
    X(void, git_odb_object_free, (git_odb_object* object), (object)) \
    X(size_t, git_odb_object_size, (git_odb_object* object), (object)) \
    X(int, git_odb_read, (git_odb_object** out, git_odb* db, const git_oid* id), (out, db, id)) \
    X(int, git_oid_equal, (const git_oid* a, const git_oid* b), (a, b)) \
    X(int, git_oid_fromstr, (git_oid* out, const char* str), (out, str)) \
    X(char*, git_oid_tostr, (char* out, size_t n, const git_oid* id), (out, n, id)) \
    X(char*, git_oid_tostr_s, (const git_oid* oid), (oid)) \
    X(void, git_packbuilder_free, (git_packbuilder* pb), (pb)) \
    X(int, git_packbuilder_insert, (git_packbuilder* pb, const git_oid* id, const char* name), (pb, id, name)) \
    X(int, git_packbuilder_insert_commit, (git_packbuilder* pb, const git_oid* id), (pb, id)) \
    X(const char*, git_packbuilder_name, (git_packbuilder* pb), (pb)) \
    X(int, git_packbuilder_new, (git_packbuilder** out, git_repository* repo), (out, repo)) \
    X(unsigned int, git_packbuilder_set_threads, (git_packbuilder* pb, unsigned int n), (pb, n)) \
    X(int, git_packbuilder_write, (git_packbuilder* pb, const char* path, unsigned int mode, git_indexer_progress_cb progress_cb, void* progress_cb_payload), (pb, path, mode, progress_cb, progress_cb_payload)) \
    X(int, git_path_is_gitfile, (const char* path, size_t pathlen, git_path_gitfile gitfile, git_path_fs fs), (path, pathlen, gitfile, fs)) \
    X(void, git_pathspec_free, (git_pathspec* ps), (ps)) \
    X(int, git_pathspec_matches_path, (const git_pathspec* ps, uint32_t flags, const char* path), (ps, flags, path)) \
    X(int, git_pathspec_new, (git_pathspec** out, const git_strarray* pathspec), (out, pathspec)) \
    X(int, git_reference_create, (git_reference** out, git_repository* repo, const char* name, const git_oid* id, int force, const char* log_message), (out, repo, name, id, force, log_message)) \
    X(void, git_reference_free, (git_reference* ref), (ref)) \
    X(void, git_reference_iterator_free, (git_reference_iterator* iter), (iter)) \
    X(int, git_reference_iterator_glob_new, (git_reference_iterator** out, git_repository* repo, const char* glob), (out, repo, glob)) \
    X(int, git_reference_lookup, (git_reference** out, git_repository* repo, const char* name), (out, repo, name)) \
    X(const char*, git_reference_name, (const git_reference* ref), (ref)) \
    X(int, git_reference_next, (git_reference** out, git_reference_iterator* iter), (out, iter)) \
    X(const char*, git_reference_symbolic_target, (const git_reference* ref), (ref)) \
    X(const git_oid*, git_reference_target, (const git_reference* ref), (ref)) \
    X(git_reference_t, git_reference_type, (const git_reference* ref), (ref)) \
    X(int, git_remote_create, (git_remote** out, git_repository* repo, const char* name, const char* url), (out, repo, name, url)) \
    X(int, git_remote_create_anonymous, (git_remote** out, git_repository* repo, const char* url), (out, repo, url)) \
    X(int, git_remote_fetch, (git_remote* remote, const git_strarray* refspecs, const git_fetch_options* opts, const char* reflog_message), (remote, refspecs, opts, reflog_message)) \
    X(void, git_remote_free, (git_remote* remote), (remote)) \
    X(int, git_remote_lookup, (git_remote** out, git_repository* repo, const char* name), (out, repo, name)) \
    X(const char*, git_remote_url, (const git_remote* remote), (remote)) \
    X(int, git_repository_config, (git_config** out, git_repository* repo), (out, repo)) \
    X(void, git_repository_free, (git_repository* repo), (repo)) \
    X(int, git_repository_head, (git_reference** out, git_repository* repo), (out, repo)) \
    X(int, git_repository_head_unborn, (git_repository* repo), (repo)) \
    X(int, git_repository_index, (git_index** out, git_repository* repo), (out, repo)) \
    X(int, git_repository_init, (git_repository** out, const char* path, unsigned is_bare), (out, path, is_bare)) \
    X(int, git_repository_odb, (git_odb** out, git_repository* repo), (out, repo)) \
    X(int, git_repository_open_bare, (git_repository** out, const char* bare_path), (out, bare_path)) \
    X(int, git_repository_open_ext, (git_repository** out, const char* path, unsigned int flags, const char* ceiling_dirs), (out, path, flags, ceiling_dirs)) \
    X(const char*, git_repository_path, (const git_repository* repo), (repo)) \
    X(int, git_repository_set_head, (git_repository* repo, const char* refname), (repo, refname)) \
    X(int, git_repository_set_head_detached, (git_repository* repo, const git_oid* committish), (repo, committish)) \
    X(int, git_revparse_single, (git_object** out, git_repository* repo, const char* spec), (out, repo, spec)) \
    X(const git_tree_entry*, git_tree_entry_byindex, (const git_tree* tree, size_t idx), (tree, idx)) \
    X(const git_tree_entry*, git_tree_entry_byname, (const git_tree* tree, const char* filename), (tree, filename)) \
    X(int, git_tree_entry_bypath, (git_tree_entry** out, const git_tree* root, const char* path), (out, root, path)) \
    X(git_filemode_t, git_tree_entry_filemode, (const git_tree_entry* entry), (entry)) \
    X(void, git_tree_entry_free, (git_tree_entry* entry), (entry)) \
    X(const git_oid*, git_tree_entry_id, (const git_tree_entry* entry), (entry)) \
    X(const char*, git_tree_entry_name, (const git_tree_entry* entry), (entry)) \
    X(git_object_t, git_tree_entry_type, (const git_tree_entry* entry), (entry)) \
    X(size_t, git_tree_entrycount, (const git_tree* tree), (tree)) \
    X(void, git_tree_free, (git_tree* tree), (tree)) \
    X(int, git_tree_lookup, (git_tree** out, git_repository* repo, const git_oid* id), (out, repo, id))
// clang-format on

namespace nixjail::cache {

namespace {

// The position of each function in Git2Library::functions.
enum class Git2Function : size_t {
#define NIXJAIL_GIT2_POSITION(ret, name, params, args) name,
    NIXJAIL_GIT2_FUNCTIONS(NIXJAIL_GIT2_POSITION)
#undef NIXJAIL_GIT2_POSITION
};

constexpr const char* kGit2FunctionNames[] = {
#define NIXJAIL_GIT2_NAME(ret, name, params, args) #name,
    NIXJAIL_GIT2_FUNCTIONS(NIXJAIL_GIT2_NAME)
#undef NIXJAIL_GIT2_NAME
};

// The version whose ABI the callers were compiled against ("1.5"), as Debian names its package.
std::string git2Version() {
    return std::to_string(LIBGIT2_VER_MAJOR) + "." + std::to_string(LIBGIT2_VER_MINOR);
}

// "a, b, c and 88 more": a library that is not libgit2 lacks all of them.
std::string describeMissing(const std::vector<std::string>& missing) {
    constexpr size_t kShown = 3;
    std::string out;
    for (size_t i = 0; i < missing.size() && i < kShown; ++i)
        out += (i ? ", " : "") + missing[i];
    if (missing.size() > kShown) out += " and " + std::to_string(missing.size() - kShown) + " more";
    return out;
}

}  // namespace

std::vector<std::string> git2LibraryCandidates() {
    return base::sharedLibraryCandidates(NIXJAIL_LIBGIT2_SONAME, NIXJAIL_LIBGIT2_DIR);
}

Git2Library loadGit2Library(const std::vector<std::string>& candidates) {
    Git2Library lib;
    // dlsym on the handle searches the library itself, never this file's definitions of the same
    // names, which would call themselves.
    lib.handle = base::openSharedLibrary(
        candidates,
        [&](void* handle) {
            lib.functions.clear();
            std::vector<std::string> missing;
            for (const char* fn : kGit2FunctionNames) {
                lib.functions.push_back(::dlsym(handle, fn));
                if (!lib.functions.back()) missing.emplace_back(fn);
            }
            return missing.empty() ? std::string()
                                   : "has no " + describeMissing(missing) + " (not libgit2 " + git2Version() + "?)";
        },
        "libgit2 " + git2Version() + ", which nixjail-runner fetches, reads and checks out git repositories with",
        "install it (Debian: apt-get install libgit2-" + git2Version() +
            "; NixOS: the package's libgit2) and try again");
    return lib;
}

const Git2Library& git2Library() {
    static const Git2Library lib = loadGit2Library(git2LibraryCandidates());
    return lib;
}

}  // namespace nixjail::cache

// The definitions the callers link against. A call loads the library if no call did yet, so a
// missing library throws base::Error from the first call, normally git_libgit2_init (GitLibrary,
// repo_info.cc); the callers are C++, and this file is compiled with exceptions, so the exception
// reaches them like any other.
#define NIXJAIL_GIT2_FORWARD(ret, name, params, args)                                    \
    extern "C" ret name params {                                                        \
        const auto position = static_cast<size_t>(nixjail::cache::Git2Function::name); \
        return reinterpret_cast<decltype(&::name)>(                                     \
            nixjail::cache::git2Library().functions[position]) args;                    \
    }
NIXJAIL_GIT2_FUNCTIONS(NIXJAIL_GIT2_FORWARD)
#undef NIXJAIL_GIT2_FORWARD
