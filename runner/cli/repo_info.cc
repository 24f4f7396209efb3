// The github context of the local repository; its remote, HEAD and branch with libgit2 where
// the repository's files are not plain enough to read directly (git_facts_files.cc).
#include "runner/cli/repo_info.h"

#include <git2.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <regex>

#include "runner/base/error.h"
#include "runner/cli/git_facts.h"

namespace nixjail::runner::cli {

namespace {

// libgit2 objects with their free functions.
template <class T, void (*Free)(T*)>
struct GitDeleter {
    void operator()(T* p) const { Free(p); }
};
using Repository = std::unique_ptr<git_repository, GitDeleter<git_repository, git_repository_free>>;
using Reference = std::unique_ptr<git_reference, GitDeleter<git_reference, git_reference_free>>;
using Remote = std::unique_ptr<git_remote, GitDeleter<git_remote, git_remote_free>>;

}  // namespace

// In-process: spawning git three times cost more than the rest of a one-step `exec`.
GitFacts readGitFactsWithLibgit2(const std::filesystem::path& dir) {
    GitFacts facts;
    git_libgit2_init();
    git_repository* raw = nullptr;
    if (git_repository_open_ext(&raw, dir.c_str(), 0, nullptr) == 0) {
        Repository repo(raw);
        git_reference* head = nullptr;
        if (git_repository_head(&head, repo.get()) == 0) {
            Reference h(head);
            if (const git_oid* oid = git_reference_target(h.get())) facts.sha = git_oid_tostr_s(oid);
            facts.ref = git_reference_name(h.get());
        } else if (git_repository_head_unborn(repo.get()) == 1) {
            git_reference* sym = nullptr;
            if (git_reference_lookup(&sym, repo.get(), "HEAD") == 0) {
                Reference s(sym);
                if (const char* target = git_reference_symbolic_target(s.get())) facts.ref = target;
            }
        }
        git_remote* remote = nullptr;
        if (git_remote_lookup(&remote, repo.get(), "origin") == 0) {
            Remote r(remote);
            if (const char* url = git_remote_url(r.get())) facts.origin_url = url;
        }
    }
    git_libgit2_shutdown();
    return facts;
}

nlohmann::json localGithubContext(const std::filesystem::path& dir) {
    nlohmann::json g;
    std::string repo = "local/" + std::filesystem::absolute(dir).lexically_normal().filename().string();
    std::string server = "https://github.com";
    const auto plain = readGitFactsFromFiles(dir);  // libgit2 only where the files are not plain
    const GitFacts facts = plain ? *plain : [&] {
        // Its one failure is libgit2 that cannot be loaded (on this first call): say what for.
        try {
            return readGitFactsWithLibgit2(dir);
        } catch (const base::Error& e) {
            throw base::Error("cannot read origin and HEAD of the git repository at '" + dir.string() +
                              "' for the github context (this layout needs libgit2): " + e.what());
        }
    }();
    if (const auto& url = facts.origin_url) {
        static const std::regex kUrl(R"(^(?:(https?)://(?:[^@/]+@)?([^/]+)/|[^@]+@([^:]+):)(.+?)(?:\.git)?/?$)");
        std::smatch m;
        if (std::regex_match(*url, m, kUrl)) {
            repo = m[4];
            const std::string host = m[2].matched ? m[2].str() : m[3].str();
            server = (m[1].matched ? m[1].str() : std::string("https")) + "://" + host;
        }
    }
    const auto slash = repo.find('/');
    g["repository"] = repo;
    g["repository_owner"] = slash == std::string::npos ? repo : repo.substr(0, slash);
    g["sha"] = facts.sha.value_or("0000000000000000000000000000000000000000");
    g["ref"] = facts.ref.value_or("refs/heads/main");
    g["ref_name"] = g["ref"].get<std::string>().substr(g["ref"].get<std::string>().rfind('/') + 1);
    g["ref_type"] = "branch";
    const char* user = std::getenv("USER");
    g["actor"] = user && *user ? user : "nixjail";
    g["triggering_actor"] = g["actor"];
    g["server_url"] = server;
    g["api_url"] = server == "https://github.com" ? "https://api.github.com" : server + "/api/v1";
    g["graphql_url"] = server == "https://github.com" ? "https://api.github.com/graphql" : server + "/api/graphql";
    return g;
}

}  // namespace nixjail::runner::cli
