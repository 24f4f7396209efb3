// The sandbox-exec (SBPL) profile of a job on macOS, generated in portable pure code so that it is
// golden-tested on Linux too. Deny by default; exactly the closure readable; the workspace, job
// home and temp writable; network only to the proxy on localhost; no keychain.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nixjail::executor::sbpl {

struct ProfileInputs {
    // Read and execute, never write: the job's Nix closure (each store path, not /nix/store).
    std::vector<std::filesystem::path> store_paths;
    // Read, write and execute: workspace, job home, temp. Seatbelt matches resolved paths, so
    // these must be canonical (/private/var/folders/..., not /var/folders/...).
    std::vector<std::filesystem::path> writable;
    // The job's proxy on localhost; nullopt: no network at all.
    std::optional<std::uint16_t> proxy_port;
};

// The whole profile for `sandbox-exec -p`. Throws base::Error for a relative path or a path with a
// control character other than newline, tab or carriage return.
std::string sbplProfile(const ProfileInputs& in);

// `s` as an SBPL (TinyScheme) string literal: quoted, with backslash, quote, newline, tab and CR
// escaped. Throws base::Error for other control characters, which SBPL cannot carry.
std::string sbplString(std::string_view s);

// The fixed part of every profile (base_profile.sb).
std::string_view sbplBaseProfile();

}  // namespace nixjail::executor::sbpl
