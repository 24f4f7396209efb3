// Finding the nixpkgs a run's packages are built from, the ways Nix users expect: the given one
// (`--nixpkgs`, written as Nix takes it), else `<nixpkgs>` in Nix's search path (NIX_PATH, nix.conf's
// nix-path, the channels), else the flake registry's `nixpkgs`.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "workspace-cache/closure.h"

namespace nixjail::runner::engine {

struct NixpkgsSource {
    // What nix-build gets as its file argument: an absolute path, a lookup path ("<nixpkgs>"), or
    // a URL Nix fetches (https://.../nixexprs.tar.xz, channel:nixos-24.11).
    std::string expression;
    std::string found_by;  // for messages: "--nixpkgs", "<nixpkgs> in Nix's search path (NIX_PATH)", ...
};

// A nixpkgs as the user wrote it, turned into what nix-build takes: lookup paths (`<nixpkgs>`) and
// URLs (http, https, file, channel:, git, s3, ssh) unchanged, anything else a path made absolute
// against `cwd`. Empty stays empty.
std::string nixpkgsArgument(const std::string& given, const std::filesystem::path& cwd);

// Whether nix-build would read `expression` as a lookup path or a URL rather than a file path.
bool isLookupPath(const std::string& expression);
bool isNixUrl(const std::string& expression);

struct NixCommandOutput {
    int exit_code = -1;
    std::string out;
    std::string err;
};
// Runs one Nix command line (argv[0] is the tool's name: nix-instantiate, nix). Tests give a fake.
using NixCommand = std::function<NixCommandOutput(const std::vector<std::string>& argv)>;
// The real thing, with `tools`' bin_dir and environment.
NixCommand nixCommand(const cache::NixTools& tools);

// KEY's value as the Nix tools see it: in `tools`' environment, else in this process's; nullopt:
// unset.
std::optional<std::string> envOf(const cache::NixTools& tools, const std::string& key);

// NIX_PATH (from `tools`' environment, else this process's) when it alone makes Nix's search path:
// no NIX_CONFIG and no nix.conf Nix would read sets `nix-path` (which would replace it) or
// includes other files. nullopt: only Nix can tell.
std::optional<std::string> nixPathOf(const cache::NixTools& tools);

// What `<name>` is in the search path `nix_path` (NIX_PATH's syntax), found as Nix finds it: the
// first entry `name=PATH` (or `prefix=PATH` with name under prefix, or a bare `DIR` holding name)
// that exists, lexically normalised. nullopt: none exists, or an entry is something only Nix reads
// (a URL, channel:, flake:, a relative path).
std::optional<std::string> findInNixPath(const std::string& name, const std::string& nix_path);

// `given` (may be empty; `given_by` names where it came from, e.g. "--nixpkgs") checked as far as
// it can be without building anything, else the first of `<nixpkgs>` in Nix's search path and the
// flake registry's nixpkgs. Throws base::Error saying what was tried, what Nix answered and how to
// give one. `nix_path` (nixPathOf): where it answers a lookup path, Nix is not asked.
NixpkgsSource locateNixpkgs(const std::string& given, const std::string& given_by,
                            const std::filesystem::path& cwd, const NixCommand& nix,
                            const std::optional<std::string>& nix_path = std::nullopt);

}  // namespace nixjail::runner::engine
