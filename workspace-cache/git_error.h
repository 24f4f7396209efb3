// Private: GitError carries libgit2's last error; checkGit() turns a return code into one.
#pragma once

#include <git2.h>

#include <memory>
#include <string>

#include "runner/base/error.h"

namespace nixjail::cache {

class GitError : public base::Error {
  public:
    GitError(const std::string& what, int code);
    int code() const { return code_; }

  private:
    int code_;
};

// Throws GitError("<what>: <libgit2 message>") when rc < 0; returns rc otherwise.
int checkGit(int rc, const std::string& what);

// libgit2 objects owned by unique_ptr with their free function.
template <class T, void (*Free)(T*)>
struct GitDeleter {
    void operator()(T* p) const { Free(p); }
};
using GitRepository =
    std::unique_ptr<git_repository, GitDeleter<git_repository, git_repository_free>>;
using GitRemote = std::unique_ptr<git_remote, GitDeleter<git_remote, git_remote_free>>;
using GitCommit = std::unique_ptr<git_commit, GitDeleter<git_commit, git_commit_free>>;
using GitTree = std::unique_ptr<git_tree, GitDeleter<git_tree, git_tree_free>>;
using GitObject = std::unique_ptr<git_object, GitDeleter<git_object, git_object_free>>;
using GitIndex = std::unique_ptr<git_index, GitDeleter<git_index, git_index_free>>;

// Keeps libgit2 initialised while any instance exists (git_libgit2_init is reference counted).
class GitLibrary {
  public:
    GitLibrary() { git_libgit2_init(); }
    ~GitLibrary() { git_libgit2_shutdown(); }
    GitLibrary(const GitLibrary&) = delete;
    GitLibrary& operator=(const GitLibrary&) = delete;
};

}  // namespace nixjail::cache
