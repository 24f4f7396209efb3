// GitError: libgit2's thread-local last error, appended to what we were doing.
#include "workspace-cache/git_error.h"

namespace nixjail::cache {

namespace {
std::string withGitMessage(const std::string& what) {
    const git_error* e = git_error_last();
    return what + ": " + (e && e->message ? e->message : "unknown libgit2 error");
}
}  // namespace

GitError::GitError(const std::string& what, int code)
    : base::Error(withGitMessage(what)), code_(code) {}

int checkGit(int rc, const std::string& what) {
    if (rc < 0) throw GitError(what, rc);
    return rc;
}

}  // namespace nixjail::cache
