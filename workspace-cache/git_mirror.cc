// Bare mirrors per remote: create, fetch (libgit2 with an anonymous remote, so nothing lands in
// config; git's CLI for a repository on this machine), detect a mirror whose first fetch never
// finished.
#include "workspace-cache/git_mirror.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>

#include "runner/base/file_io.h"
#include "workspace-cache/content_hash.h"
#include "workspace-cache/entry_store.h"
#include "workspace-cache/file_lock.h"
#include "workspace-cache/git_error.h"
#include "workspace-cache/local_fetch.h"
#include "workspace-cache/storage_backends.h"

namespace nixjail::cache {

namespace fs = std::filesystem;

namespace {

struct CredentialState {
    const GitCredentials* creds;
    int attempts = 0;
};

int credentialCallback(git_credential** out, const char* /*url*/, const char* /*user*/,
                       unsigned int allowed, void* payload) {
    auto* state = static_cast<CredentialState*>(payload);
    // libgit2 asks again after a rejection; a second ask means the token is wrong.
    if (!state->creds || state->attempts++ > 0 || !(allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT))
        return GIT_PASSTHROUGH;
    return git_credential_userpass_plaintext_new(out, state->creds->username.c_str(),
                                                 state->creds->token.reveal().c_str());
}

// What a mirror holds: branches, tags and pull refs, each replaced when the remote moves it.
const std::vector<std::string> kMirrorRefspecs = {
    "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*", "+refs/pull/*:refs/pull/*"};

// Fetches with an anonymous remote, so that neither the URL nor the token lands in config.
void fetchWithLibgit2(git_repository* repo, const std::string& url, const fs::path& path,
                      const std::optional<GitCredentials>& creds) {
    git_remote* remote_raw = nullptr;
    checkGit(git_remote_create_anonymous(&remote_raw, repo, url.c_str()),
             "cannot use remote '" + url + "'");
    GitRemote remote(remote_raw);

    CredentialState state{creds ? &*creds : nullptr};
    git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
    opts.callbacks.credentials = credentialCallback;
    opts.callbacks.payload = &state;
    opts.prune = GIT_FETCH_PRUNE;
    opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;  // the refspecs take all tags
    std::vector<char*> specs;
    for (const auto& spec : kMirrorRefspecs) specs.push_back(const_cast<char*>(spec.c_str()));
    git_strarray refspecs = {specs.data(), specs.size()};
    checkGit(git_remote_fetch(remote.get(), &refspecs, &opts, nullptr),
             "cannot fetch '" + url + "' into '" + path.string() +
                 "'; is the URL right and does the token have read access?");
}

}  // namespace

GitMirrors::GitMirrors(fs::path dir) : lib_(std::make_unique<GitLibrary>()), dir_(std::move(dir)) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec)
        throw base::Error("cannot create git mirror directory '" + dir_.string() +
                          "': " + ec.message());
}

GitMirrors::~GitMirrors() = default;

fs::path GitMirrors::mirrorPath(const std::string& url) const {
    return dir_ / (sha256Hex(url).substr(0, 32) + ".git");
}

fs::path GitMirrors::lockPath(const std::string& url) const {
    return dir_ / (sha256Hex(url).substr(0, 32) + ".lock");
}

bool GitMirrors::isComplete(const std::string& url) const {
    std::error_code ec;
    return fs::exists(dir_ / (sha256Hex(url).substr(0, 32) + ".done"), ec);
}

fs::path GitMirrors::fetch(const std::string& url, const std::optional<GitCredentials>& creds) {
    fs::path path = mirrorPath(url);
    fs::path marker = dir_ / (sha256Hex(url).substr(0, 32) + ".done");
    FileLock lock(lockPath(url));
    lock.lock(LockMode::kExclusive);

    git_repository* raw = nullptr;
    if (!isComplete(url) || git_repository_open_bare(&raw, path.c_str()) < 0) {
        // Never fetched to the end, or unreadable: start over.
        ::unlink(marker.c_str());
        removeTree(path);
        checkGit(git_repository_init(&raw, path.c_str(), /*is_bare=*/1),
                 "cannot create git mirror '" + path.string() + "' for '" + url + "'");
    }
    GitRepository repo(raw);

    // A repository on this machine goes through git's own local transport, which sends its packs
    // as they are; without git installed, through libgit2's, which is correct but packs the
    // whole history itself. Credentials mean nothing to either.
    std::optional<fs::path> git = isLocalRemote(url) ? findGitProgram() : std::nullopt;
    if (git) {
        repo.reset();
        fetchWithGitCli(*git, url, path, kMirrorRefspecs);
    } else {
        fetchWithLibgit2(repo.get(), url, path, creds);
    }
    if (!isComplete(url)) base::writeFileAtomic(marker, url + "\n");
    ::utimensat(AT_FDCWD, marker.c_str(), nullptr, 0);  // last use, for prune()
    return path;
}

std::optional<std::string> GitMirrors::resolve(const std::string& url,
                                               const std::string& rev) const {
    fs::path path = mirrorPath(url);
    if (!isComplete(url)) return std::nullopt;
    FileLock lock(lockPath(url));
    lock.lock(LockMode::kShared);
    git_repository* raw = nullptr;
    checkGit(git_repository_open_bare(&raw, path.c_str()),
             "cannot open git mirror '" + path.string() + "'");
    GitRepository repo(raw);
    ::utimensat(AT_FDCWD, (dir_ / (sha256Hex(url).substr(0, 32) + ".done")).c_str(), nullptr, 0);
    for (const std::string& spec : {rev, "refs/heads/" + rev, "refs/tags/" + rev}) {
        git_object* obj = nullptr;
        if (git_revparse_single(&obj, repo.get(), (spec + "^{commit}").c_str()) == 0) {
            GitObject owned(obj);
            char hex[GIT_OID_HEXSZ + 1] = {};
            git_oid_tostr(hex, sizeof hex, git_object_id(obj));
            return std::string(hex);
        }
    }
    return std::nullopt;
}

std::vector<MirrorInfo> GitMirrors::list() const {
    std::vector<MirrorInfo> out;
    std::error_code ec;
    for (const auto& de : fs::directory_iterator(dir_, ec)) {
        if (de.path().extension() != ".done") continue;
        MirrorInfo info;
        try {
            info.url = base::readFile(de.path());
        } catch (const std::exception&) {
            continue;  // removed meanwhile
        }
        while (!info.url.empty() && info.url.back() == '\n') info.url.pop_back();
        info.size_bytes = treeSize(mirrorPath(info.url));
        struct stat st {};
        if (::stat(de.path().c_str(), &st) == 0)
            info.last_used =
                std::chrono::system_clock::time_point(std::chrono::seconds(st.st_mtim.tv_sec));
        out.push_back(std::move(info));
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.last_used < b.last_used; });
    return out;
}

std::vector<std::string> GitMirrors::prune(std::uint64_t budget_bytes) {
    std::vector<std::string> removed;
    std::error_code ec;
    // Half-fetched mirrors: a .git without a .done marker, not locked by a fetch in progress.
    for (const auto& de : fs::directory_iterator(dir_, ec)) {
        if (de.path().extension() != ".git") continue;
        fs::path stem = dir_ / de.path().stem();
        if (fs::exists(stem.string() + ".done")) continue;
        FileLock lock(stem.string() + ".lock");
        if (!lock.tryLock(LockMode::kExclusive) || fs::exists(stem.string() + ".done")) continue;
        removeTree(de.path());
        removed.emplace_back();
    }
    auto mirrors = list();
    std::uint64_t total = 0;
    for (const auto& m : mirrors) total += m.size_bytes;
    for (const auto& m : mirrors) {
        if (total <= budget_bytes) break;
        FileLock lock(lockPath(m.url));
        if (!lock.tryLock(LockMode::kExclusive)) continue;  // a job is fetching or checking out
        fs::path marker = dir_ / (sha256Hex(m.url).substr(0, 32) + ".done");
        if (::unlink(marker.c_str()) != 0 && errno != ENOENT)
            throw base::SysError("cannot remove marker of git mirror '" +
                                 mirrorPath(m.url).string() + "'");
        removeTree(mirrorPath(m.url));
        total -= m.size_bytes;
        removed.push_back(m.url);
    }
    return removed;
}

}  // namespace nixjail::cache
