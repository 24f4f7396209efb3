// What `exec` reads of the local repository for the github context: origin's URL, HEAD's commit
// and the ref HEAD names.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace nixjail::runner::cli {

struct GitFacts {
    std::optional<std::string> origin_url, sha, ref;
    bool operator==(const GitFacts&) const = default;
};

// From the files of the repository holding `dir`, as git reads them, for the common layout only:
// a `.git` directory found walking up from `dir` on the same filesystem, no commondir or reftable,
// a loose or packed ref (or a detached or unborn HEAD), and a config without includes or URL
// rewrites (nor a user or system config with rewrites). nullopt for anything else: then
// readGitFactsWithLibgit2 answers. Costs a few file reads, where libgit2's initialisation alone
// loads the CA bundle (about 8 ms of a one-step exec).
std::optional<GitFacts> readGitFactsFromFiles(const std::filesystem::path& dir);

// The same through libgit2, for every layout; empty facts when `dir` is in no repository. Throws
// base::Error when libgit2 cannot be loaded (workspace-cache/git2_library.h loads it on this call).
GitFacts readGitFactsWithLibgit2(const std::filesystem::path& dir);

}  // namespace nixjail::runner::cli
