// Finding the nixpkgs a run's packages are built from, the ways Nix users expect: the given one
// (`--nixpkgs`, written as Nix takes it), else `<nixpkgs>` in Nix's search path (NIX_PATH, nix.conf's
// nix-path, the channels), else the flake registry's `nixpkgs`.
#pragma once

#include <filesystem>
#include <functional>
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

// `given` (may be empty; `given_by` names where it came from, e.g. "--nixpkgs") checked as far as
// it can be without building anything, else the first of `<nixpkgs>` in Nix's search path and the
// flake registry's nixpkgs. Throws base::Error saying what was tried, what Nix answered and how to
// give one.
NixpkgsSource locateNixpkgs(const std::string& given, const std::string& given_by,
                            const std::filesystem::path& cwd, const NixCommand& nix);

}  // namespace nixjail::runner::engine
