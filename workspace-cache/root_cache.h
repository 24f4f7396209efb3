// RootCache: one prepared job root per Nix closure, built once and snapshotted per job.
//
// A root holds copies of the closure's store paths at their /nix/store locations (reflinked where
// the storage can), so the jail needs no per-path binds and the root stays valid after Nix
// garbage-collects the paths. Around them: a minimal /etc (passwd and group with root and uid 1000
// `runner`, hosts, nsswitch.conf, a resolv.conf with no nameserver), an empty CA bundle slot at
// /etc/ssl/certs/ca-certificates.crt for the proxy's CA, /bin/sh and /usr/bin/env links into the
// closure, and empty mount points (/tmp, /workspace, /proc, /dev, /sys, /run, /home/runner).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "workspace-cache/entry_store.h"
#include "workspace-cache/storage.h"

namespace nixjail::cache {

constexpr const char* kCaBundlePath = "etc/ssl/certs/ca-certificates.crt";  // relative to a root

// Pins one cached root: it is not evicted while the lease exists.
class RootLease {
  public:
    RootLease(EntryPin pin, Storage& storage, std::vector<std::string> closure);

    // The shared, cached root. Treat it as read-only; use snapshotTo() for a writable copy.
    const std::filesystem::path& root() const { return pin_.path(); }
    const std::string& key() const { return pin_.key(); }
    bool hit() const { return pin_.hit(); }
    const std::vector<std::string>& closure() const { return closure_; }
    // PATH for steps: every closure path's bin/ directory that exists, in closure order.
    std::string binPath() const;
    // A writable per-job copy of the root at `dst` (must not exist), removed with the lease.
    SubvolumeLease snapshotTo(const std::filesystem::path& dst) const;


  private:
    EntryPin pin_;
    Storage* storage_;
    std::vector<std::string> closure_;
};

class RootCache {
  public:
    RootCache(Storage& storage, std::filesystem::path dir) : entries_(storage, std::move(dir)) {}

    // The root for a complete closure (as computeClosure returns it), building it on a miss.
    // Throws when the closure has no shell (bin/sh or bin/bash) or a path cannot be copied.
    RootLease acquire(const std::vector<std::string>& closure);
    std::vector<EntryInfo> list() const { return entries_.list(); }
    std::vector<std::string> prune(std::uint64_t budget_bytes) {
        return entries_.prune(budget_bytes);
    }

  private:
    EntryStore entries_;
};

// Private to RootCache, exposed for tests: fills `tree` with the closure and the skeleton.
void buildRootTree(Storage& storage, const std::filesystem::path& tree,
                   const std::vector<std::string>& closure);

}  // namespace nixjail::cache
