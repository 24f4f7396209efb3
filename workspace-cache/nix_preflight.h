// Before any job: can this machine's Nix build the jobs' packages? One message naming what is
// missing and what to install or configure, instead of a nix-build exit code per job.
#pragma once

#include <optional>
#include <string>

#include "workspace-cache/closure.h"

namespace nixjail::cache {

// What readNixSetup() found out about the machine's Nix.
struct NixSetup {
    std::string nix_build;  // the nix-build that would run; empty: not found
    std::string searched;   // where it was looked for, for the message
    // Nix's effective settings (nix show-config, with NIX_CONFIG and NIX_REMOTE applied);
    // config_error: why they could not be read.
    std::string store = "auto";
    std::string build_users_group;
    std::string config_error;
    bool root = false;  // Nix runs as uid 0, so it builds as the build users
    // Members of build_users_group; nullopt: the group does not exist.
    std::optional<size_t> build_users;
    // The local store's first directory (state, then store) Nix could not write; empty: none.
    std::string not_writable;
    std::string daemon_socket = "/nix/var/nix/daemon-socket/socket";
    bool daemon_socket_exists = false;
    std::string daemon_error;  // why connecting to daemon_socket failed; empty: it answered
};

// Why Nix cannot build here, with what to do; nullopt: it can (or the store is one this does
// not know how to check, such as ssh://). Decides on `setup` alone.
std::optional<std::string> nixBuildProblem(const NixSetup& setup);

// Looks: nix-build in tools.bin_dir or PATH, `nix show-config` with tools.env, the build users
// group (getgrnam), the store directories (access) and the daemon's socket (connect).
NixSetup readNixSetup(const NixTools& tools);

// Throws base::Error with nixBuildProblem's message when Nix cannot build here.
void checkNixCanBuild(const NixTools& tools);

}  // namespace nixjail::cache
