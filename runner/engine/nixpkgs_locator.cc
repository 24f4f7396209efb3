// Locating nixpkgs: the given expression, Nix's search path, the flake registry.
#include "runner/engine/nixpkgs_locator.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "runner/base/error.h"
#include "workspace-cache/command_output.h"

namespace nixjail::runner::engine {

namespace fs = std::filesystem;

namespace {

// Nix's last complaint, without the warnings before it ("the group 'nixbld' ... does not exist").
std::string nixComplaint(const NixCommandOutput& r) {
    std::string last, lastError;
    size_t start = 0;
    while (start < r.err.size()) {
        size_t end = r.err.find('\n', start);
        if (end == std::string::npos) end = r.err.size();
        std::string line = r.err.substr(start, end - start);
        start = end + 1;
        if (line.empty()) continue;
        last = line;
        if (line.rfind("error:", 0) == 0) lastError = line;
    }
    const std::string why = !lastError.empty() ? lastError : last;
    return why.empty() ? "exit " + std::to_string(r.exit_code) : why;
}

std::string firstLine(const std::string& text) {
    const auto end = text.find('\n');
    return end == std::string::npos ? text : text.substr(0, end);
}

std::vector<std::string> splitColons(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream in(text);
    for (std::string part; std::getline(in, part, ':');) out.push_back(part);
    return out;
}

// Whether Nix configuration `text` could change the search path: it sets nix-path or pulls in
// another file.
bool touchesSearchPath(const std::string& text) {
    return text.find("nix-path") != std::string::npos || text.find("include") != std::string::npos;
}

}  // namespace

std::optional<std::string> envOf(const cache::NixTools& tools, const std::string& key) {
    for (const auto& kv : tools.env) {
        if (kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=')
            return kv.substr(key.size() + 1);
    }
    if (const char* v = std::getenv(key.c_str())) return std::string(v);
    return std::nullopt;
}

std::optional<std::string> nixPathOf(const cache::NixTools& tools) {
    const auto nixPath = envOf(tools, "NIX_PATH");
    if (!nixPath) return std::nullopt;  // Nix's default search path (the channels)
    if (touchesSearchPath(envOf(tools, "NIX_CONFIG").value_or(""))) return std::nullopt;
    // The files Nix reads: the system's, then the user's (NIX_USER_CONF_FILES, else the XDG ones).
    std::vector<fs::path> files = {fs::path(envOf(tools, "NIX_CONF_DIR").value_or("/etc/nix")) / "nix.conf"};
    if (const auto user = envOf(tools, "NIX_USER_CONF_FILES")) {
        for (const auto& f : splitColons(*user)) files.emplace_back(f);
    } else {
        for (const auto& d : splitColons(envOf(tools, "XDG_CONFIG_DIRS").value_or("/etc/xdg")))
            files.push_back(fs::path(d) / "nix/nix.conf");
        if (const auto home = envOf(tools, "XDG_CONFIG_HOME"))
            files.push_back(fs::path(*home) / "nix/nix.conf");
        else if (const auto h = envOf(tools, "HOME"))
            files.push_back(fs::path(*h) / ".config/nix/nix.conf");
    }
    for (const auto& f : files) {
        std::ifstream in(f);
        if (!in) continue;
        std::stringstream text;
        text << in.rdbuf();
        if (touchesSearchPath(text.str())) return std::nullopt;
    }
    return nixPath;
}

std::optional<std::string> findInNixPath(const std::string& name, const std::string& nix_path) {
    // Entries with a URL, channel: or flake: hold colons of their own: leave those to Nix.
    for (const char* marker : {"://", "channel:", "flake:"}) {
        if (nix_path.find(marker) != std::string::npos) return std::nullopt;
    }
    for (const auto& entry : splitColons(nix_path)) {
        if (entry.empty()) continue;
        const auto eq = entry.find('=');
        const std::string prefix = eq == std::string::npos ? "" : entry.substr(0, eq);
        const std::string dir = eq == std::string::npos ? entry : entry.substr(eq + 1);
        if (dir.empty() || dir.front() != '/') return std::nullopt;  // relative: Nix's business
        fs::path candidate;
        if (prefix.empty()) {
            candidate = fs::path(dir) / name;
        } else if (name == prefix) {
            candidate = dir;
        } else if (name.rfind(prefix + "/", 0) == 0) {
            candidate = fs::path(dir) / name.substr(prefix.size() + 1);
        } else {
            continue;
        }
        std::error_code ec;
        if (!fs::exists(dir, ec) || !fs::exists(candidate, ec)) continue;
        fs::path out = candidate.lexically_normal();
        if (!out.has_filename() && out != out.root_path()) out = out.parent_path();
        return out.string();
    }
    return std::nullopt;
}

bool isLookupPath(const std::string& expression) {
    return expression.size() > 2 && expression.front() == '<' && expression.back() == '>';
}

bool isNixUrl(const std::string& expression) {
    // Nix's own list (isUri in libexpr): the schemes nix-build fetches instead of reading a file.
    for (const char* scheme : {"http://", "https://", "file://", "channel:", "git://", "s3://", "ssh://"}) {
        if (expression.rfind(scheme, 0) == 0) return true;
    }
    return false;
}

std::string nixpkgsArgument(const std::string& given, const fs::path& cwd) {
    if (given.empty() || isLookupPath(given) || isNixUrl(given)) return given;
    const fs::path p(given);
    fs::path out = (p.is_absolute() ? p : cwd / p).lexically_normal();
    if (!out.has_filename() && out != out.root_path()) out = out.parent_path();  // "a/b/" -> "a/b"
    return out.string();
}

NixCommand nixCommand(const cache::NixTools& tools) {
    return [tools](const std::vector<std::string>& argv) {
        std::vector<std::string> full = argv;
        if (!tools.bin_dir.empty()) full[0] = (tools.bin_dir / full[0]).string();
        try {
            const auto r = cache::runCommand(full, tools.env);
            return NixCommandOutput{r.exit_code, r.out, r.err};
        } catch (const base::Error& e) {
            return NixCommandOutput{127, "", std::string("error: ") + e.what()};
        }
    };
}

NixpkgsSource locateNixpkgs(const std::string& given, const std::string& given_by, const fs::path& cwd,
                            const NixCommand& nix, const std::optional<std::string>& nix_path) {
    if (!given.empty()) {
        const std::string expression = nixpkgsArgument(given, cwd);
        if (isLookupPath(expression)) {
            const std::string name = expression.substr(1, expression.size() - 2);
            if (nix_path && findInNixPath(name, *nix_path)) return {expression, given_by};
            const auto r = nix({"nix-instantiate", "--find-file", name});
            if (r.exit_code != 0) {
                throw base::Error(given_by + " '" + given + "': Nix's search path has no '" + name +
                                  "' (" + nixComplaint(r) + "); set NIX_PATH=" + name +
                                  "=/path/to/nixpkgs, or give a path or URL instead");
            }
        } else if (!isNixUrl(expression) && !fs::exists(expression)) {
            throw base::Error(given_by + " '" + given + "': '" + expression +
                              "' does not exist; give a nixpkgs checkout (a directory with default.nix), "
                              "<nixpkgs>, a channel (channel:nixos-24.11) or a tarball URL");
        }
        return {expression, given_by};
    }

    if (nix_path) {
        if (const auto found = findInNixPath("nixpkgs", *nix_path))
            return {*found, "<nixpkgs> in Nix's search path (NIX_PATH)"};
    }
    const auto searched = nix({"nix-instantiate", "--find-file", "nixpkgs"});
    const std::string found = firstLine(searched.out);
    if (searched.exit_code == 0 && !found.empty()) {
        return {found, "<nixpkgs> in Nix's search path (NIX_PATH)"};
    }

    const auto registry = nix({"nix", "--extra-experimental-features", "nix-command flakes", "flake",
                               "metadata", "--json", "nixpkgs"});
    std::string registryProblem = nixComplaint(registry);
    if (registry.exit_code == 0) {
        try {
            const auto meta = nlohmann::json::parse(registry.out);
            const std::string path = meta.value("path", std::string());
            if (!path.empty()) {
                return {path, "the flake registry's nixpkgs (" +
                                  meta.value("resolvedUrl", meta.value("url", std::string("nixpkgs"))) +
                                  ")"};
            }
            registryProblem = "`nix flake metadata nixpkgs` named no store path";
        } catch (const nlohmann::json::exception& e) {
            registryProblem = std::string("unexpected answer from `nix flake metadata nixpkgs`: ") + e.what();
        }
    }
    throw base::Error(
        "no nixpkgs to build the jobs' packages from: none was given (--nixpkgs, or `nixpkgs:` in "
        ".nixjail-runner.yaml or ~/.config/nixjail-runner/config.yaml), Nix's search path has no "
        "<nixpkgs> (" +
        nixComplaint(searched) + "), and the flake registry has none (" + registryProblem +
        "); give one, e.g. --nixpkgs /path/to/nixpkgs, NIX_PATH=nixpkgs=channel:nixos-24.11, or "
        "`nix registry add nixpkgs /path/to/nixpkgs`");
}

}  // namespace nixjail::runner::engine
