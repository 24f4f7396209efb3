// What a nixpkgs expression's package answers depend on, as a key under which they can be
// remembered (cache::ClosureMemo), and how long they may be trusted.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "workspace-cache/closure.h"

namespace nixjail::runner::engine {

// Nix re-checks what it fetched from a URL after its tarball-ttl (an hour by default); answers
// from a nixpkgs that can change under the same name are trusted as long.
inline constexpr std::chrono::seconds kMutableNixpkgsTrust{3600};

struct NixpkgsIdentity {
    // Empty: nothing to key answers on (they are not remembered).
    std::string key;
    // nullopt: answers hold as long as the key does (an immutable nixpkgs in the Nix store).
    std::optional<std::chrono::seconds> max_age;
};

// The identity of `expression` (what nix-build takes: an absolute path, <name>, a URL) as `tools`
// would evaluate it. Always part of it: the system, the NIXPKGS_* and NIX_PATH/NIX_CONFIG
// variables, and nixpkgs' user configuration (NIXPKGS_CONFIG, ~/.config/nixpkgs, ~/.nixpkgs).
// - a path in the Nix store (a channel, a flake input, pkgs.path): that path; never expires;
// - another path: the path and the metadata of every file under its directory (so an edit makes a
//   new key), trusted for kMutableNixpkgsTrust since it may read files outside that directory;
// - a URL or channel: the URL, trusted for kMutableNixpkgsTrust;
// - <name>: what NIX_PATH names, as a path; when only Nix could say, the lookup path itself,
//   trusted for kMutableNixpkgsTrust.
NixpkgsIdentity identifyNixpkgs(const std::string& expression, const cache::NixTools& tools);

}  // namespace nixjail::runner::engine
