// Reading submodules from a mirror with libgit2, and the small .gitmodules parser.
#include "workspace-cache/submodules.h"

#include <map>

#include "runner/base/error.h"
#include "workspace-cache/git_error.h"

namespace nixjail::cache {

namespace fs = std::filesystem;

namespace {

std::string_view trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

// A config value: optional double quotes with \" \\ \t \n escapes, comments after # or ; outside
// quotes.
std::string configValue(std::string_view raw, size_t lineNo) {
    std::string out;
    bool quoted = false;
    for (size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (c == '"') {
            quoted = !quoted;
        } else if (c == '\\' && i + 1 < raw.size()) {
            const char n = raw[++i];
            out += n == 't' ? '\t' : n == 'n' ? '\n' : n;
        } else if ((c == '#' || c == ';') && !quoted) {
            break;
        } else {
            out += c;
        }
    }
    if (quoted)
        throw base::Error(".gitmodules line " + std::to_string(lineNo) + ": unterminated quote");
    return std::string(trim(out));
}

using GitBlob = std::unique_ptr<git_blob, GitDeleter<git_blob, git_blob_free>>;

}  // namespace

std::vector<Submodule> parseGitmodules(std::string_view text) {
    std::vector<Submodule> out;
    Submodule* current = nullptr;  // inside a [submodule "x"] section
    size_t lineNo = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const std::string_view line = trim(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++lineNo;
        if (line.empty() || line[0] == '#' || line[0] == ';') continue;
        if (line[0] == '[') {
            const auto close = line.find(']');
            if (close == std::string_view::npos) {
                throw base::Error(".gitmodules line " + std::to_string(lineNo) +
                                  ": section header without ']'");
            }
            const std::string_view header = trim(line.substr(1, close - 1));
            current = nullptr;
            if (header.rfind("submodule", 0) == 0) {
                const auto q1 = header.find('"'), q2 = header.rfind('"');
                if (q1 == std::string_view::npos || q2 == q1) {
                    throw base::Error(".gitmodules line " + std::to_string(lineNo) +
                                      ": submodule section without a quoted name");
                }
                out.push_back({.name = std::string(header.substr(q1 + 1, q2 - q1 - 1))});
                current = &out.back();
            }
            continue;
        }
        if (!current) continue;  // keys of other sections
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) continue;  // boolean keys carry nothing we use
        std::string key(trim(line.substr(0, eq)));
        for (auto& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (key == "path") current->path = configValue(line.substr(eq + 1), lineNo);
        if (key == "url") current->url = configValue(line.substr(eq + 1), lineNo);
    }
    return out;
}

std::vector<Submodule> listSubmodules(const fs::path& mirror, const std::string& commit) {
    GitLibrary lib;
    git_repository* raw = nullptr;
    checkGit(git_repository_open_bare(&raw, mirror.c_str()),
             "cannot open git mirror '" + mirror.string() + "'");
    GitRepository repo(raw);
    git_oid oid;
    checkGit(git_oid_fromstr(&oid, commit.c_str()), "invalid commit id '" + commit + "'");
    git_commit* commitRaw = nullptr;
    checkGit(git_commit_lookup(&commitRaw, repo.get(), &oid),
             "commit '" + commit + "' is not in '" + mirror.string() + "'");
    GitCommit c(commitRaw);
    git_tree* treeRaw = nullptr;
    checkGit(git_commit_tree(&treeRaw, c.get()), "cannot read the tree of commit '" + commit + "'");
    GitTree tree(treeRaw);

    const git_tree_entry* gm = git_tree_entry_byname(tree.get(), ".gitmodules");
    if (!gm || git_tree_entry_type(gm) != GIT_OBJECT_BLOB) return {};
    git_blob* blobRaw = nullptr;
    checkGit(git_blob_lookup(&blobRaw, repo.get(), git_tree_entry_id(gm)),
             "cannot read .gitmodules of " + commit);
    GitBlob blob(blobRaw);
    const std::string_view text(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                                static_cast<size_t>(git_blob_rawsize(blob.get())));

    std::vector<Submodule> out;
    for (auto& s : parseGitmodules(text)) {
        if (s.path.empty() || s.url.empty()) continue;
        git_tree_entry* entryRaw = nullptr;
        if (git_tree_entry_bypath(&entryRaw, tree.get(), s.path.c_str()) != 0) continue;
        std::unique_ptr<git_tree_entry, GitDeleter<git_tree_entry, git_tree_entry_free>> entry(
            entryRaw);
        if (git_tree_entry_filemode(entry.get()) != GIT_FILEMODE_COMMIT) continue;
        s.commit = git_oid_tostr_s(git_tree_entry_id(entry.get()));
        out.push_back(std::move(s));
    }
    return out;
}

std::string resolveSubmoduleUrl(const std::string& super_url, const std::string& url) {
    if (url.rfind("./", 0) != 0 && url.rfind("../", 0) != 0) return url;
    std::string base = super_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    std::string_view rest = url;
    while (true) {
        if (rest.rfind("./", 0) == 0) {
            rest.remove_prefix(2);
        } else if (rest.rfind("../", 0) == 0) {
            rest.remove_prefix(3);
            const auto slash = base.find_last_of('/');
            // Never climb above the host: "https://host/a" + "../../x" stays on the host.
            if (slash == std::string::npos ||
                base.compare(slash > 0 ? slash - 1 : 0, 2, "//") == 0) {
                throw base::Error("submodule URL '" + url + "' climbs above '" + super_url + "'");
            }
            base.erase(slash);
        } else {
            break;
        }
    }
    return base + "/" + std::string(rest);
}

}  // namespace nixjail::cache
