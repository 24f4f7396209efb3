// The Nix side of closures: edges from `nix-store -q`, package names through `nix-build`.
#include <sys/utsname.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "runner/base/error.h"
#include "workspace-cache/closure.h"
#include "workspace-cache/command_output.h"

namespace nixjail::cache {

namespace {

std::string tool(const NixTools& tools, const char* name) {
    return tools.bin_dir.empty() ? std::string(name) : (tools.bin_dir / name).string();
}

// The last few lines of a tool's stderr, which carry Nix's actual complaint.
std::string tail(const std::string& err) {
    auto lines = outputLines(err);
    std::string out;
    for (size_t i = lines.size() > 6 ? lines.size() - 6 : 0; i < lines.size(); ++i)
        out += "\n  " + lines[i];
    return out;
}

std::vector<std::string> queryStore(const NixTools& tools, const char* what,
                                    const std::vector<std::string>& paths) {
    std::vector<std::string> argv = {tool(tools, "nix-store"), "-q", what};
    argv.insert(argv.end(), paths.begin(), paths.end());
    CommandOutput r = runCommand(argv, tools.env);
    if (r.exit_code != 0) {
        std::string joined;
        for (const auto& p : paths) joined += (joined.empty() ? "'" : ", '") + p + "'";
        throw base::Error("nix-store " + std::string(what) + " failed for " + joined + " (exit " +
                          std::to_string(r.exit_code) +
                          "); are the paths valid in the local store?" + tail(r.err));
    }
    return outputLines(r.out);
}

bool isAttributeName(const std::string& name) {
    if (name.empty() || name.front() == '.' || name.back() == '.') return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
               c == '+';
    });
}

}  // namespace

std::vector<std::string> parsePackageList(std::string_view text) {
    std::vector<std::string> names;
    std::string bad;
    std::string word;
    bool comment = false;
    auto flush = [&] {
        if (word.empty()) return;
        if (!isAttributeName(word))
            bad += (bad.empty() ? "'" : ", '") + word + "'";
        else if (std::find(names.begin(), names.end(), word) == names.end())
            names.push_back(word);
        word.clear();
    };
    for (char c : text) {
        if (c == '\n') comment = false;
        if (comment) continue;
        if (c == '#') {
            flush();
            comment = true;
        } else if (c == ',' || std::isspace(static_cast<unsigned char>(c))) {
            flush();
        } else {
            word += c;
        }
    }
    flush();
    if (!bad.empty())
        throw base::Error(
            "invalid package names " + bad +
            ": expected nixpkgs attribute paths such as 'python3' or 'nodePackages.pnpm', "
            "separated by spaces or commas");
    return names;
}

std::vector<std::string> NixStoreReferenceSource::references(const std::string& path) {
    {
        std::lock_guard lock(mutex_);
        if (auto it = memo_.find(path); it != memo_.end()) return it->second;
    }
    learnGraph({path});
    std::lock_guard lock(mutex_);
    return memo_.at(path);
}

void NixStoreReferenceSource::prefetch(const std::vector<std::string>& roots) {
    std::vector<std::string> unknown;
    {
        std::lock_guard lock(mutex_);
        for (const auto& r : roots)
            if (!memo_.count(r) && std::find(unknown.begin(), unknown.end(), r) == unknown.end())
                unknown.push_back(r);
    }
    if (!unknown.empty()) learnGraph(unknown);
}

void NixStoreReferenceSource::learnGraph(const std::vector<std::string>& paths) {
    // One `--graph` query yields the edges of the paths' whole closure, so a walk over a closure
    // of hundreds of paths costs one process. Lines look like
    //   "<hash>-<name>" [label = ...];          a node
    //   "<hash>-<ref>" -> "<hash>-<name>" [...]; <name> refers to <ref>
    auto lines = queryStore(tools_, "--graph", paths);
    std::string store_dir = std::filesystem::path(paths.front()).parent_path().string() + "/";
    auto quoted = [](const std::string& line, size_t from, size_t* end) {
        size_t a = line.find('"', from);
        size_t b = a == std::string::npos ? a : line.find('"', a + 1);
        if (b == std::string::npos) return std::string();
        *end = b + 1;
        return line.substr(a + 1, b - a - 1);
    };
    std::map<std::string, std::vector<std::string>> edges;
    for (const auto& line : lines) {
        if (line.empty() || line[0] != '"') continue;
        size_t end = 0;
        std::string first = store_dir + quoted(line, 0, &end);
        edges[first];  // every node gets an entry, leaves included
        size_t arrow = line.find("->", end);
        if (arrow == std::string::npos || line.find('[', end) < arrow) continue;
        std::string referrer = store_dir + quoted(line, arrow, &end);
        if (referrer != first) edges[referrer].push_back(first);
    }
    for (const auto& path : paths) {
        if (!edges.count(path))
            throw base::Error("nix-store --graph for '" + path +
                              "' did not list the path itself; is it a valid store path?");
    }
    std::lock_guard lock(mutex_);
    for (auto& [node, refs] : edges) memo_.emplace(node, std::move(refs));
}

std::vector<std::string> NixStoreReferenceSource::closureOf(const std::vector<std::string>& roots) {
    auto paths = queryStore(tools_, "-R", roots);
    std::sort(paths.begin(), paths.end());
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
    return paths;
}

uint64_t NixStoreReferenceSource::totalSize(const std::vector<std::string>& paths) {
    std::vector<std::string> unknown;
    {
        std::lock_guard lock(mutex_);
        for (const auto& p : paths) {
            if (!sizes_.count(p)) unknown.push_back(p);
        }
    }
    if (!unknown.empty()) {
        // One line per path, in the order asked.
        auto lines = queryStore(tools_, "--size", unknown);
        if (lines.size() != unknown.size())
            throw base::Error("nix-store -q --size answered " + std::to_string(lines.size()) +
                              " lines for " + std::to_string(unknown.size()) + " paths");
        std::lock_guard lock(mutex_);
        for (size_t i = 0; i < unknown.size(); ++i) {
            try {
                sizes_[unknown[i]] = std::stoull(lines[i]);
            } catch (const std::exception&) {
                throw base::Error("nix-store -q --size gave '" + lines[i] + "' for '" +
                                  unknown[i] + "', not a size");
            }
        }
    }
    std::lock_guard lock(mutex_);
    uint64_t total = 0;
    for (const auto& p : paths) total += sizes_.at(p);
    return total;
}

std::vector<std::string> PackageResolver::resolvePackages(const std::vector<std::string>& names) const {
    std::vector<std::string> unique;
    for (const auto& n : names) {
        if (!isAttributeName(n))
            throw base::Error(
                "invalid package name '" + n +
                "': expected a nixpkgs attribute path such as 'python3' or 'nodePackages.pnpm'");
        if (std::find(unique.begin(), unique.end(), n) == unique.end()) unique.push_back(n);
    }
    if (unique.empty()) return {};
    std::vector<std::string> argv = {tool(tools_, "nix-build"), "--no-out-link", nixpkgs_.string()};
    for (const auto& n : unique) {
        argv.push_back("-A");
        argv.push_back(n);
    }
    CommandOutput r = runCommand(argv, tools_.env);
    auto outs = outputLines(r.out);
    if (r.exit_code != 0 || outs.size() != unique.size()) {
        std::string joined;
        for (const auto& n : unique) joined += (joined.empty() ? "'" : ", '") + n + "'";
        throw base::Error("cannot build packages " + joined + " from nixpkgs '" + nixpkgs_.string() +
                          "' (nix-build exit " + std::to_string(r.exit_code) +
                          "); check the names against that nixpkgs" + tail(r.err));
    }
    std::vector<std::string> paths;
    for (const auto& n : names)
        paths.push_back(outs[std::find(unique.begin(), unique.end(), n) - unique.begin()]);
    return paths;
}

std::string DevShellResolver::currentSystem() {
    struct utsname u {};
    ::uname(&u);
    const std::string machine = u.machine;
    return (machine == "arm64" ? std::string("aarch64") : machine) + "-linux";
}

std::vector<std::string> DevShellResolver::resolve(const std::filesystem::path& flake_dir, const std::string& system) {
    return resolve(flake_dir, system,
                   std::filesystem::absolute(flake_dir).lexically_normal().string());
}

std::optional<std::vector<std::string>> DevShellResolver::remembered(const std::string& key,
                                                                     const std::string& system) {
    std::lock_guard lock(mutex_);
    if (auto it = resolved_.find(key + '\0' + system); it != resolved_.end()) return it->second;
    return std::nullopt;
}

std::vector<std::string> DevShellResolver::resolve(const std::filesystem::path& flake_dir,
                                                   const std::string& system,
                                                   const std::string& key) {
    const std::string dir = std::filesystem::absolute(flake_dir).lexically_normal().string();
    std::lock_guard lock(mutex_);
    if (auto it = resolved_.find(key + '\0' + system); it != resolved_.end()) return it->second;

    const bool git = std::filesystem::exists(flake_dir / ".git");
    const std::string ref = (git ? "git+file://" : "path:") + dir;
    const std::string attr = "devShells." + system + ".default";
    // Every input list a shell's tools come from; each element's output path and derivation.
    const std::string apply =
        "d: map (p: { out = p.outPath; drv = p.drvPath or null; }) (builtins.concatLists (map (a: d.${a} or []) "
        "[ \"packages\" \"nativeBuildInputs\" \"buildInputs\" \"propagatedNativeBuildInputs\" "
        "\"propagatedBuildInputs\" ]))";
    const std::vector<std::string> flags = {"--extra-experimental-features", "nix-command flakes"};
    std::vector<std::string> argv = {tool(tools_, "nix")};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"eval", "--json", ref + "#" + attr, "--apply", apply});
    CommandOutput r = runCommand(argv, tools_.env);
    if (r.exit_code != 0) {
        throw base::Error("cannot read the devShell '" + attr + "' of the flake in '" + dir + "' (nix eval exit " +
                          std::to_string(r.exit_code) + "); declare packages instead, or fix the flake" + tail(r.err));
    }
    std::vector<std::string> outs, drvs;
    try {
        for (const auto& p : nlohmann::json::parse(r.out)) {
            outs.push_back(p.at("out").get<std::string>());
            if (p.at("drv").is_string()) drvs.push_back(p.at("drv").get<std::string>());
        }
    } catch (const nlohmann::json::exception& e) {
        throw base::Error("unexpected answer from nix eval for the devShell of '" + dir + "': " + e.what());
    }
    if (outs.empty()) {
        throw base::Error("the devShell '" + attr + "' of the flake in '" + dir +
                          "' lists no packages (packages, nativeBuildInputs, buildInputs)");
    }
    if (!drvs.empty()) {
        std::sort(drvs.begin(), drvs.end());
        drvs.erase(std::unique(drvs.begin(), drvs.end()), drvs.end());
        std::vector<std::string> build = {tool(tools_, "nix-store"), "-r"};
        build.insert(build.end(), drvs.begin(), drvs.end());
        CommandOutput b = runCommand(build, tools_.env);
        if (b.exit_code != 0) {
            throw base::Error("cannot build the devShell packages of the flake in '" + dir + "' (nix-store -r exit " +
                              std::to_string(b.exit_code) + ")" + tail(b.err));
        }
    }
    std::sort(outs.begin(), outs.end());
    outs.erase(std::unique(outs.begin(), outs.end()), outs.end());
    resolved_[key + '\0' + system] = outs;
    return outs;
}

}  // namespace nixjail::cache
