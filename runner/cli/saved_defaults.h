// Defaults for `exec` flags kept in files, as act keeps them in ~/.actrc and ./.actrc: the user's
// ($XDG_CONFIG_HOME, else ~/.config)/nixjail-runner/config.yaml and the repository's
// .nixjail-runner.yaml. Precedence: built-in defaults < the user's file < the repository's file <
// the command line. A repository's file cannot choose how its jobs are isolated or which host
// files they get: its executor, profile, policy, credential_file and cache_dir, a secret_file
// outside the repository and a nixpkgs other than a lookup path or channel are ignored, with a
// warning.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nixjail::runner::cli {

inline constexpr const char* kRepositoryDefaultsFile = ".nixjail-runner.yaml";

struct SavedDefaults {
    std::optional<std::string> packages;  // "bash coreutils"
    // As nix-build takes it (a path made absolute against the file's directory), and which file
    // said so ("nixpkgs in /home/me/.config/nixjail-runner/config.yaml").
    std::optional<std::string> nixpkgs;
    std::string nixpkgs_from;
    // runs-on label (globs allowed) -> packages, the file that wins first.
    std::vector<std::pair<std::string, std::vector<std::string>>> default_packages;
    std::vector<std::string> secret_files;  // absolute; the user's first
    std::optional<std::string> executor, profile, policy, credential_file, cache_dir;
    std::vector<std::string> warnings;  // settings a repository's file may not make, ignored
};

// ($XDG_CONFIG_HOME, else $HOME/.config)/nixjail-runner/config.yaml.
std::filesystem::path userDefaultsFile();

// One file's text. Relative paths are taken from `dir`, the file's directory. `repository`: the
// file is a repository's (see above); `repo` is that repository. Throws base::Error with every
// problem as file:line:col (unknown keys with a suggestion).
SavedDefaults parseSavedDefaults(const std::string& text, const std::string& file,
                                 const std::filesystem::path& dir, bool repository,
                                 const std::filesystem::path& repo = {});

// `over`'s settings replace `under`'s; lists are joined (default_packages: `over`'s first;
// secret_files: `under`'s first, so that `over`'s values win).
SavedDefaults mergeSavedDefaults(SavedDefaults under, const SavedDefaults& over);

// The user's file, then `repo`'s; either may be missing.
SavedDefaults loadSavedDefaults(const std::filesystem::path& repo);

}  // namespace nixjail::runner::cli
