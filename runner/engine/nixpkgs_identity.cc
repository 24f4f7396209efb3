// Keys for remembered package answers: which nixpkgs, evaluated how.
#include "runner/engine/nixpkgs_identity.h"

#include <sys/stat.h>

#include <map>

#include "runner/engine/nixpkgs_locator.h"
#include "workspace-cache/content_hash.h"

extern char** environ;

namespace nixjail::runner::engine {

namespace fs = std::filesystem;

namespace {

// A walk over more files than this is not worth its time: such a tree's answers are not kept.
constexpr size_t kMaxFingerprintEntries = 200000;

// One line of metadata for `path`: what changes when the file is edited, replaced or retyped.
bool appendMetadata(std::string& out, const fs::path& path, const std::string& name) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return false;
    out += name + ' ' + std::to_string(st.st_mode) + ' ' + std::to_string(st.st_size) + ' ' +
           std::to_string(st.st_mtim.tv_sec) + '.' + std::to_string(st.st_mtim.tv_nsec) + ' ' +
           std::to_string(st.st_ino) + '\n';
    if (S_ISLNK(st.st_mode)) {
        std::error_code ec;
        out += "-> " + fs::read_symlink(path, ec).string() + '\n';
    }
    return true;
}

// A digest of the metadata of `root` and everything under it (a directory's links not followed,
// `.git` left out); "absent" when there is nothing; nullopt when the tree is too big to walk.
std::optional<std::string> treeFingerprint(const fs::path& root) {
    std::string lines;
    if (!appendMetadata(lines, root, ".")) return std::string("absent");
    std::error_code ec;
    if (!fs::is_directory(fs::symlink_status(root, ec))) return cache::sha256Hex(lines);
    size_t entries = 0;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        if (it->path().filename() == ".git") {
            it.disable_recursion_pending();
            continue;
        }
        if (++entries > kMaxFingerprintEntries) return std::nullopt;
        appendMetadata(lines, it->path(), it->path().lexically_relative(root).string());
    }
    return cache::sha256Hex(lines);
}

// What nixpkgs reads besides its own files: the variables it and Nix look at, the system, and the
// user's nixpkgs configuration and overlays.
std::optional<std::string> evaluationContext(const cache::NixTools& tools) {
    std::map<std::string, std::string> vars;
    auto consider = [&](const std::string& kv) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos) return;
        const std::string key = kv.substr(0, eq);
        if (key.rfind("NIXPKGS_", 0) == 0 || key == "NIX_PATH" || key == "NIX_CONFIG" ||
            key == "NIX_STORE_DIR")
            vars[key] = kv.substr(eq + 1);
    };
    for (char** e = environ; e && *e; ++e) consider(*e);
    for (const auto& kv : tools.env) consider(kv);  // the tools' own settings win
    std::string text = "system " + cache::DevShellResolver::currentSystem() + '\n';
    for (const auto& [k, v] : vars) text += k + '=' + v + '\n';

    std::vector<fs::path> config;
    if (const auto file = envOf(tools, "NIXPKGS_CONFIG")) config.emplace_back(*file);
    const auto home = envOf(tools, "HOME");
    if (const auto xdg = envOf(tools, "XDG_CONFIG_HOME"))
        config.push_back(fs::path(*xdg) / "nixpkgs");
    else if (home)
        config.push_back(fs::path(*home) / ".config/nixpkgs");
    if (home) config.push_back(fs::path(*home) / ".nixpkgs");
    for (const auto& c : config) {
        const auto print = treeFingerprint(c);
        if (!print) return std::nullopt;
        text += c.string() + ' ' + *print + '\n';
    }
    return cache::sha256Hex(text);
}

}  // namespace

NixpkgsIdentity identifyNixpkgs(const std::string& expression, const cache::NixTools& tools) {
    const auto context = evaluationContext(tools);
    if (!context || expression.empty()) return {};
    std::string path = expression;
    if (isLookupPath(expression)) {
        const auto nixPath = nixPathOf(tools);
        const auto found =
            nixPath ? findInNixPath(expression.substr(1, expression.size() - 2), *nixPath) : std::nullopt;
        if (!found) return {"lookup " + expression + ' ' + *context, kMutableNixpkgsTrust};
        path = *found;
    }
    if (isNixUrl(path)) return {"url " + path + ' ' + *context, kMutableNixpkgsTrust};

    std::error_code ec;
    const fs::path real = fs::canonical(path, ec);
    if (ec) return {};  // nix-build will say what is wrong with it
    const std::string store = envOf(tools, "NIX_STORE_DIR").value_or("/nix/store") + "/";
    if (real.string().rfind(store, 0) == 0) return {"store " + real.string() + ' ' + *context, std::nullopt};
    // A file's imports are its neighbours: the directory it is in stands for it.
    const fs::path tree = fs::is_directory(real, ec) ? real : real.parent_path();
    const auto print = treeFingerprint(tree);
    if (!print) return {};
    return {"tree " + real.string() + ' ' + *print + ' ' + *context, kMutableNixpkgsTrust};
}

}  // namespace nixjail::runner::engine
