// Reading HEAD, its ref and origin's URL from a plain repository's files.
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "runner/cli/git_facts.h"

namespace nixjail::runner::cli {

namespace {

namespace fs = std::filesystem;

std::optional<std::string> readText(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string trim(std::string s) {
    const auto notSpace = [](unsigned char c) { return !std::isspace(c); };
    s.erase(s.begin(), std::find_if(s.begin(), s.end(), notSpace));
    s.erase(std::find_if(s.rbegin(), s.rend(), notSpace).base(), s.end());
    return s;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

bool isObjectId(const std::string& s) {
    return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) {
               return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
           });
}

// The .git directory of the repository holding `dir`: walking up, on dir's filesystem (libgit2
// does not cross filesystems unless told to). nullopt: a layout this reader leaves to libgit2
// (a .git file, `dir` itself a git directory); an empty path: no repository.
std::optional<fs::path> findGitDir(const fs::path& dir) {
    std::error_code ec;
    fs::path p = fs::absolute(dir, ec).lexically_normal();
    if (ec) return std::nullopt;
    struct stat start {};
    if (::stat(p.c_str(), &start) != 0) return std::nullopt;
    for (;;) {
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0 || st.st_dev != start.st_dev) return fs::path();
        if (fs::exists(p / "HEAD", ec) && fs::exists(p / "objects", ec)) return std::nullopt;
        const fs::path dotgit = p / ".git";
        if (fs::is_directory(fs::symlink_status(dotgit, ec))) return dotgit;
        if (fs::exists(fs::symlink_status(dotgit, ec))) return std::nullopt;
        if (!p.has_relative_path()) return fs::path();
        p = p.parent_path();
    }
}

// Whether git config text changes what a URL or another file says (includes, url rewrites), or
// spells a value this reader does not unquote.
bool configTooRich(const std::string& text) {
    const std::string l = lower(text);
    return l.find("[include") != std::string::npos || l.find("insteadof") != std::string::npos;
}

// origin's url in config `text`; nullopt with *rich set when this reader cannot tell.
std::optional<std::string> originUrl(const std::string& text, bool* rich) {
    std::istringstream in(text);
    bool inOrigin = false;
    std::optional<std::string> url;
    for (std::string line; std::getline(in, line);) {
        line = trim(line);
        if (line.empty() || line[0] == '#' || line[0] == ';') continue;
        if (line[0] == '[') {
            if (line.back() != ']') {  // `[section] key = value` on one line
                *rich = true;
                return std::nullopt;
            }
            inOrigin = lower(line.substr(0, 7)) == "[remote" && trim(line.substr(7)) == "\"origin\"]";
            continue;
        }
        if (!inOrigin) continue;
        const auto eq = line.find('=');
        if (eq == std::string::npos || lower(trim(line.substr(0, eq))) != "url") continue;
        std::string value = trim(line.substr(eq + 1));
        if (value.find_first_of("\"\\#;") != std::string::npos) {
            *rich = true;
            return std::nullopt;
        }
        if (!url) url = value;  // git's first url is the fetch URL
    }
    return url;
}

// The commit a loose or packed ref names; nullopt when it has none (an unborn branch); *rich set
// when the ref is something this reader does not follow (a symbolic ref).
std::optional<std::string> refTarget(const fs::path& gitdir, const std::string& ref, bool* rich) {
    if (const auto loose = readText(gitdir / ref)) {
        const std::string id = trim(*loose);
        if (isObjectId(id)) return id;
        *rich = true;
        return std::nullopt;
    }
    if (const auto packed = readText(gitdir / "packed-refs")) {
        std::istringstream in(*packed);
        for (std::string line; std::getline(in, line);) {
            if (line.size() > 41 && line[40] == ' ' && line.substr(41) == ref && isObjectId(line.substr(0, 40)))
                return line.substr(0, 40);
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<GitFacts> readGitFactsFromFiles(const fs::path& dir) {
    const auto gitdir = findGitDir(dir);
    if (!gitdir) return std::nullopt;
    if (gitdir->empty()) return GitFacts{};
    std::error_code ec;
    if (fs::exists(*gitdir / "commondir", ec) || fs::exists(*gitdir / "reftable", ec)) return std::nullopt;

    // The configs libgit2 reads, for URL rewrites: the system's, the user's, the repository's.
    const char* home = std::getenv("HOME");
    const char* xdg = std::getenv("XDG_CONFIG_HOME");
    std::vector<fs::path> configs = {"/etc/gitconfig"};
    if (home) configs.push_back(fs::path(home) / ".gitconfig");
    if (xdg && *xdg) configs.push_back(fs::path(xdg) / "git/config");
    else if (home) configs.push_back(fs::path(home) / ".config/git/config");
    for (const auto& c : configs) {
        if (const auto text = readText(c); text && configTooRich(*text)) return std::nullopt;
    }
    GitFacts facts;
    bool rich = false;
    if (const auto config = readText(*gitdir / "config")) {
        if (configTooRich(*config)) return std::nullopt;
        facts.origin_url = originUrl(*config, &rich);
        if (rich) return std::nullopt;
    }
    const auto head = readText(*gitdir / "HEAD");
    if (!head) return std::nullopt;
    const std::string h = trim(*head);
    if (isObjectId(h)) {  // detached
        facts.sha = h;
        facts.ref = "HEAD";
        return facts;
    }
    if (h.rfind("ref: ", 0) != 0) return std::nullopt;
    facts.ref = trim(h.substr(5));
    if (facts.ref->rfind("refs/", 0) != 0) return std::nullopt;
    facts.sha = refTarget(*gitdir, *facts.ref, &rich);
    if (rich) return std::nullopt;
    return facts;
}

}  // namespace nixjail::runner::cli
