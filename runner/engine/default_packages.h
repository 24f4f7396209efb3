// The packages a job gets when it declares none and its repository has no flake devShell: a set
// per runs-on label, so that `runs-on: ubuntu-latest` with `run: echo hello` works as on GitHub.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nixjail::runner::engine {

// What GitHub's Ubuntu image offers shell steps, as nixpkgs attributes: a shell and the GNU
// userland (coreutils, findutils, grep, sed, awk, tar and the usual compressors, diff, patch,
// which), git, curl, jq and CA certificates. Compilers and language runtimes are not in it: a
// job declares those.
const std::vector<std::string>& ubuntuBasePackages();

// The packages a job's runs-on label stands for. Patterns are labels with shell globs
// (`ubuntu-*`); the first pattern that matches one of the job's labels (in the job's order)
// decides. An empty package list maps a label to nothing: such a job must declare packages.
class DefaultPackages {
  public:
    struct Entry {
        std::string pattern;
        std::vector<std::string> packages;
    };
    struct Choice {
        std::string label;    // the job's label that matched
        std::string pattern;  // the pattern it matched
        std::vector<std::string> packages;
    };

    // The built-in mapping: `ubuntu-*`, `linux` and `self-hosted` to ubuntuBasePackages().
    static DefaultPackages builtIn();

    // Adds `pattern` ahead of every entry there is, so the caller's configuration wins over the
    // built-in mapping; a pattern given again replaces its earlier entry.
    void prepend(std::string pattern, std::vector<std::string> packages);
    // Every entry of `other`, in its order, ahead of this mapping's.
    void prependAll(const std::vector<Entry>& other);

    // The set for the first of `labels` that has one; nullopt when none has (or it is empty).
    std::optional<Choice> choose(const std::vector<std::string>& labels) const;

    // "the job declares no Nix packages and its runs-on label 'macos-latest' has no default
    // package set; ..." with every way out (declare, map the label, flake devShell).
    static std::string noDefaultMessage(const std::vector<std::string>& labels);

    const std::vector<Entry>& entries() const { return entries_; }

  private:
    std::vector<Entry> entries_;
};

// A job's runs-on as labels: a string, a list of strings, or {group, labels}. Expressions must
// have been evaluated by the caller; anything that is not a string is left out.
std::vector<std::string> runsOnLabels(const nlohmann::json& runs_on);

// The job log's line for a chosen set: "the default packages of runs-on label 'ubuntu-latest'
// (17 packages: bash coreutils ...; the job declares none and the repository has no flake
// devShell)".
std::string describeChoice(const DefaultPackages::Choice& choice);

}  // namespace nixjail::runner::engine
