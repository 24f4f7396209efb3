// The runner's cache directory: roots/ (job roots per Nix closure), git/ (bare mirrors) and
// checkouts/ (sparse checkouts), shared by `exec` and the `cache` commands.
#pragma once

#include <filesystem>
#include <string>

#include "workspace-cache/closure.h"

namespace nixjail::runner::cli {

// /var/cache/nixjail-runner as root, else $XDG_CACHE_HOME or ~/.cache, plus /nixjail-runner.
std::filesystem::path defaultCacheDir();

// The Nix tools see the caller's NIX_* settings (NIX_CONFIG, NIX_PATH, ...) and HOME only.
cache::NixTools nixToolsFromEnvironment();

// "512M", "10G", "1024" (bytes); throws base::Error naming `flag`.
std::uint64_t parseSize(const std::string& text, const std::string& flag);

}  // namespace nixjail::runner::cli
