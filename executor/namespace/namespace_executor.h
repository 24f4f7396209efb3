// The built-in namespace jail: each step runs as an unprivileged user in new user, mount, pid,
// network, ipc, uts and cgroup namespaces, pivoted into the job's root, with no capabilities,
// no_new_privs, a seccomp deny-list and cgroup limits. Needs root, or a kernel that allows
// unprivileged user namespaces plus a delegated cgroup.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>

#include "executor/executor.h"
#include "runner/base/temp_dir.h"

namespace spdlog {
class logger;
}

namespace nixjail::executor {

namespace ns {
class SeccompFilters;
}

struct NamespaceOptions {
    // A root runner maps jail ids 0..65535 to host ids host_id_base..+65535; the step's processes
    // then run as host uid/gid host_id_base + 1000 (see stepHostUid()).
    uid_t host_id_base = 0x70000000;
    // Where the executor's staging directory (an empty mount point, named nixjail-stage-*) is
    // made; empty: $TMPDIR or /tmp. It must be reachable (o+x) by the jail's host ids.
    std::filesystem::path staging_parent;
    // On cancel the step's main process gets SIGTERM; the tree is killed when it exits or after
    // this long. Timeouts kill at once.
    std::chrono::milliseconds cancel_grace{5000};
    // Receives lifecycle and weakening messages; null: spdlog's default logger.
    std::shared_ptr<spdlog::logger> logger;
};

// Remapped paths, a root of the job's own, a network namespace of its own; steps run as
// host_id_base + 1000 for a root runner (`euid` 0), else as the runner's own ids.
BackendTraits namespaceTraits(const NamespaceOptions& options, uid_t euid, gid_t egid);

// JailSpec requirements: `root` and every bind's host path exist and are reachable (o+x on each
// parent) by the jail's host ids; writable binds should be owned by stepHostUid()/stepHostGid().
class NamespaceExecutor : public Executor {
  public:
    explicit NamespaceExecutor(NamespaceOptions options = {});
    ~NamespaceExecutor() override;
    std::string name() const override { return "namespace"; }
    BackendTraits traits() const override {
        return namespaceTraits(options_, ::geteuid(), ::getegid());
    }
    // Throws ns::JailSetupError (a base::Error) when the jail cannot be built for this spec.
    std::unique_ptr<Jail> prepare(const JailSpec& spec) override;

    // The host ids that files created by steps in writable binds belong to.
    uid_t stepHostUid() const;
    gid_t stepHostGid() const;

  private:
    // The empty directory every jail's init mounts its own tmpfs over, in its own mount namespace
    // (so jails share it without seeing each other's): made with the first jail, removed when the
    // executor and the last jail that uses it are gone. One per executor rather than per jail:
    // each mkdir and rmdir on a journal-less ext4 /tmp costs a scan of its recently freed inodes.
    std::shared_ptr<const base::TempDir> staging();

    NamespaceOptions options_;
    // Compiled once (the default profile's ahead of the first job), shared by every jail.
    std::unique_ptr<ns::SeccompFilters> seccomp_filters_;
    std::mutex staging_mutex_;
    std::shared_ptr<const base::TempDir> staging_;  // null until the first jail
};

struct SweepReport {
    int cgroups = 0;
    int staging_dirs = 0;
};

// For the daemon's start-up: removes job cgroups (killing what runs in them) and staging
// directories left by a crashed runner. Only call it when no jail of this runner is running.
SweepReport sweepLeftovers(const NamespaceOptions& options = {});

}  // namespace nixjail::executor
