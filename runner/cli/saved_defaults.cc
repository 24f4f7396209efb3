// Reading `exec`'s saved defaults (YAML), the only place they meet yaml-cpp.
#include "runner/cli/saved_defaults.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <sstream>

#include "runner/base/error.h"
#include "runner/base/file_io.h"
#include "runner/engine/nixpkgs_locator.h"
#include "runner/workflow/diagnostic.h"

namespace nixjail::runner::cli {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kKeys = {"packages", "nixpkgs",  "default_packages", "secret_file",
                                        "executor", "profile",  "policy",           "credential_file",
                                        "cache_dir"};
// What a repository's own file may not decide: how its jobs are isolated, what they reach.
const std::vector<std::string> kUserOnlyKeys = {"executor", "profile", "policy", "credential_file", "cache_dir"};

class Reader {
  public:
    Reader(const std::string& text, std::string file) : file_(std::move(file)) {
        std::istringstream in(text);
        for (std::string l; std::getline(in, l);) lines_.push_back(l);
    }
    void error(const YAML::Node& n, const std::string& message) {
        const auto m = n.Mark();
        workflow::Diagnostic d{file_, m.line + 1, m.column + 1, message, {}};
        if (m.line >= 0 && static_cast<size_t>(m.line) < lines_.size()) d.source_line = lines_[static_cast<size_t>(m.line)];
        diags_.push_back(std::move(d));
    }
    std::string where(const YAML::Node& n) const {
        return file_ + ":" + std::to_string(n.Mark().line + 1) + ":" + std::to_string(n.Mark().column + 1);
    }
    std::string scalar(const YAML::Node& n, const std::string& key) {
        if (n.IsScalar()) return n.Scalar();
        if (!n.IsNull()) error(n, "'" + key + "' must be a single value");
        return {};
    }
    // A list, or one string of names separated by blanks or commas.
    std::vector<std::string> names(const YAML::Node& n, const std::string& key) {
        std::vector<std::string> out;
        if (n.IsScalar()) {
            std::string word;
            for (char c : n.Scalar() + " ") {
                if (c == ' ' || c == ',' || c == '\t' || c == '\n') {
                    if (!word.empty()) out.push_back(word);
                    word.clear();
                } else {
                    word.push_back(c);
                }
            }
        } else if (n.IsSequence()) {
            for (const auto& item : n) out.push_back(scalar(item, key));
        } else if (!n.IsNull()) {
            error(n, "'" + key + "' must be a list, e.g. [bash, coreutils]");
        }
        return out;
    }
    const workflow::Diagnostics& diagnostics() const { return diags_; }

  private:
    std::string file_;
    std::vector<std::string> lines_;
    workflow::Diagnostics diags_;
};

// Whether `p` (absolute) is `repo` or below it once links are resolved.
bool staysInside(const fs::path& p, const fs::path& repo) {
    std::error_code ec;
    const fs::path real = fs::weakly_canonical(p, ec);
    const fs::path base = fs::weakly_canonical(repo, ec);
    if (ec) return false;
    const auto rel = real.lexically_relative(base);
    return !rel.empty() && *rel.begin() != "..";
}

}  // namespace

fs::path userDefaultsFile() {
    const char* xdg = std::getenv("XDG_CONFIG_HOME");
    if (xdg && *xdg == '/') return fs::path(xdg) / "nixjail-runner/config.yaml";
    const char* home = std::getenv("HOME");
    return fs::path(home && *home ? home : "/nonexistent") / ".config/nixjail-runner/config.yaml";
}

SavedDefaults parseSavedDefaults(const std::string& text, const std::string& file, const fs::path& dir,
                                 bool repository, const fs::path& repo) {
    SavedDefaults out;
    Reader r(text, file);
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw base::Error(file + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                          ": " + e.msg);
    }
    if (root.IsNull()) return out;
    if (!root.IsMap()) {
        r.error(root, "saved defaults must be a mapping of settings (packages, nixpkgs, ...)");
        throw base::Error(workflow::formatAll(r.diagnostics()));
    }
    auto path = [&](const std::string& given) { return (dir / given).lexically_normal().string(); };
    auto ignored = [&](const YAML::Node& n, const std::string& key, const std::string& why) {
        out.warnings.push_back(r.where(n) + ": '" + key + "' is ignored in a repository's file (" + why +
                               "); set it in " + userDefaultsFile().string() + " or on the command line");
    };
    for (const auto& kv : root) {
        const auto key = kv.first.as<std::string>();
        const YAML::Node& v = kv.second;
        if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
            const auto hint = workflow::closestMatch(key, kKeys);
            r.error(kv.first, "unknown setting '" + key + "'" + (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
            continue;
        }
        if (repository && std::find(kUserOnlyKeys.begin(), kUserOnlyKeys.end(), key) != kUserOnlyKeys.end()) {
            ignored(kv.first, key, "a repository may not choose how its jobs are isolated or what they reach");
            continue;
        }
        if (key == "packages") {
            std::string joined;
            for (const auto& p : r.names(v, key)) joined += (joined.empty() ? "" : " ") + p;
            out.packages = joined;
        } else if (key == "nixpkgs") {
            const std::string given = r.scalar(v, key);
            // A path or URL would be Nix code from the repository evaluated outside the jail, and
            // unlike a flake's not in pure mode; pin nixpkgs with a flake devShell instead.
            if (repository && !engine::isLookupPath(given) && given.rfind("channel:", 0) != 0) {
                ignored(kv.first, key + ": " + given,
                        "only <nixpkgs> or channel:NAME; a path or URL would be evaluated outside the jail, "
                        "pin nixpkgs with a flake devShell instead");
                continue;
            }
            out.nixpkgs = engine::nixpkgsArgument(given, dir);
            out.nixpkgs_from = "nixpkgs in " + file;
        } else if (key == "default_packages") {
            if (!v.IsMap()) {
                r.error(v, "'default_packages' must map runs-on labels to package lists, e.g. {ubuntu-*: [bash, git]}");
                continue;
            }
            for (const auto& label : v) {
                const auto name = label.first.as<std::string>();
                out.default_packages.emplace_back(name, r.names(label.second, "default_packages." + name));
            }
        } else if (key == "secret_file") {
            for (const auto& f : r.names(v, key)) {
                const std::string p = path(f);
                if (repository && !staysInside(p, repo)) {
                    ignored(kv.first, key + ": " + f, "it is outside the repository");
                    continue;
                }
                out.secret_files.push_back(p);
            }
        } else {
            const std::string value = r.scalar(v, key);
            if (key == "executor") out.executor = value;
            if (key == "profile") out.profile = value;
            if (key == "policy") out.policy = path(value);
            if (key == "credential_file") out.credential_file = path(value);
            if (key == "cache_dir") out.cache_dir = path(value);
        }
    }
    if (!r.diagnostics().empty()) throw base::Error(workflow::formatAll(r.diagnostics()));
    return out;
}

SavedDefaults mergeSavedDefaults(SavedDefaults under, const SavedDefaults& over) {
    auto take = [](std::optional<std::string>& to, const std::optional<std::string>& from) {
        if (from) to = from;
    };
    take(under.packages, over.packages);
    if (over.nixpkgs) {
        under.nixpkgs = over.nixpkgs;
        under.nixpkgs_from = over.nixpkgs_from;
    }
    take(under.executor, over.executor);
    take(under.profile, over.profile);
    take(under.policy, over.policy);
    take(under.credential_file, over.credential_file);
    take(under.cache_dir, over.cache_dir);
    under.default_packages.insert(under.default_packages.begin(), over.default_packages.begin(),
                                  over.default_packages.end());
    under.secret_files.insert(under.secret_files.end(), over.secret_files.begin(), over.secret_files.end());
    under.warnings.insert(under.warnings.end(), over.warnings.begin(), over.warnings.end());
    return under;
}

SavedDefaults loadSavedDefaults(const fs::path& repo) {
    SavedDefaults merged;
    const fs::path user = userDefaultsFile();
    if (fs::is_regular_file(user)) {
        merged = parseSavedDefaults(base::readFile(user), user.string(), user.parent_path(), false);
    }
    const fs::path own = repo / kRepositoryDefaultsFile;
    if (fs::is_symlink(fs::symlink_status(own))) {
        merged.warnings.push_back("'" + own.string() + "' is a symbolic link; a repository's own file is read only "
                                  "when it is a regular file, so it is ignored");
    } else if (fs::is_regular_file(own)) {
        merged = mergeSavedDefaults(std::move(merged),
                                    parseSavedDefaults(base::readFile(own), own.string(), repo, true, repo));
    }
    return merged;
}

}  // namespace nixjail::runner::cli
