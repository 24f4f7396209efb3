// Default package sets per runs-on label.
#include "runner/engine/default_packages.h"

#include <fnmatch.h>

#include <algorithm>

namespace nixjail::runner::engine {

const std::vector<std::string>& ubuntuBasePackages() {
    static const std::vector<std::string> kPackages = {
        "bash",     "coreutils", "findutils", "gnugrep", "gnused", "gawk",
        "gnutar",   "gzip",      "xz",        "bzip2",   "which",  "diffutils",
        "gnupatch", "git",       "curl",      "jq",      "cacert"};
    return kPackages;
}

DefaultPackages DefaultPackages::builtIn() {
    DefaultPackages d;
    for (const char* pattern : {"ubuntu-*", "linux", "self-hosted"}) {
        d.entries_.push_back({pattern, ubuntuBasePackages()});
    }
    return d;
}

void DefaultPackages::prepend(std::string pattern, std::vector<std::string> packages) {
    std::erase_if(entries_, [&](const Entry& e) { return e.pattern == pattern; });
    entries_.insert(entries_.begin(), Entry{std::move(pattern), std::move(packages)});
}

void DefaultPackages::prependAll(const std::vector<Entry>& other) {
    for (auto it = other.rbegin(); it != other.rend(); ++it) prepend(it->pattern, it->packages);
}

std::optional<DefaultPackages::Choice> DefaultPackages::choose(
    const std::vector<std::string>& labels) const {
    for (const auto& label : labels) {
        for (const auto& e : entries_) {
            if (::fnmatch(e.pattern.c_str(), label.c_str(), 0) != 0) continue;
            // An empty set maps the label to nothing; a later label may still have one.
            if (e.packages.empty()) break;
            return Choice{label, e.pattern, e.packages};
        }
    }
    return std::nullopt;
}

std::string DefaultPackages::noDefaultMessage(const std::vector<std::string>& labels) {
    std::string shown;
    for (const auto& l : labels) shown += (shown.empty() ? "'" : ", '") + l + "'";
    const std::string example = labels.empty() ? "my-label" : labels.front();
    std::string which = "it has no runs-on label";
    if (labels.size() == 1) which = "its runs-on label " + shown + " has no default package set";
    if (labels.size() > 1) which = "none of its runs-on labels " + shown + " has a default package set";
    return "the job declares no Nix packages, its repository has no flake devShell, and " + which +
           "; declare packages (--packages, or the job's NIXJAIL_PACKAGES variable; at least a "
           "shell such as bash), or map the label to packages (exec: `default_packages: {" +
           example +
           ": [bash, coreutils]}` in .nixjail-runner.yaml or ~/.config/nixjail-runner/config.yaml; "
           "daemon: nix.default_packages or labels." +
           example + ".packages), or give the repository a flake.nix with devShells.<system>.default";
}

std::vector<std::string> runsOnLabels(const nlohmann::json& runs_on) {
    const nlohmann::json& list =
        runs_on.is_object() && runs_on.contains("labels") ? runs_on["labels"] : runs_on;
    std::vector<std::string> out;
    if (list.is_string()) out.push_back(list.get<std::string>());
    if (list.is_array()) {
        for (const auto& l : list) {
            if (l.is_string()) out.push_back(l.get<std::string>());
        }
    }
    return out;
}

std::string describeChoice(const DefaultPackages::Choice& choice) {
    std::string names;
    for (const auto& p : choice.packages) names += (names.empty() ? "" : " ") + p;
    return "the default packages of runs-on label '" + choice.label + "'" +
           (choice.pattern == choice.label ? "" : " (as '" + choice.pattern + "')") + ": " + names +
           " (the job declares no packages and the repository has no flake devShell)";
}

}  // namespace nixjail::runner::engine
