// JobDirs: the daemon's own parent of its jobs' directories (<cache dir>/jobs/nixjail-daemon-<uuid>),
// so a restart can clear what a killed predecessor left there. Removed again when the daemon ends.
// On the cache's filesystem, so a job's root and checkouts are snapshots (btrfs) or reflinks of
// the cached ones rather than copies.
#pragma once

#include <spdlog/logger.h>

#include <filesystem>
#include <string>

namespace nixjail::runner::services {

// Removes a job directory a run left behind: unmounts its volume and overlay root, then deletes
// it, never across another mount point below it (logged). Whether it is gone.
bool removeJobDirectory(const std::filesystem::path& dir, spdlog::logger& log);

class JobDirs {
  public:
    // Creates the directory (mode 0711: jail users must reach the job dirs inside), after
    // removing leftovers in it. A job's disk-quota volume (<job dir>/volume) and overlay root
    // (<job dir>/root) are unmounted first;
    // entries with another mount point below them are left alone (logged): deleting through a
    // bind mount would reach the mounted tree.
    JobDirs(const std::filesystem::path& parent, const std::string& runner_uuid, spdlog::logger& log);
    ~JobDirs();
    JobDirs(const JobDirs&) = delete;
    JobDirs& operator=(const JobDirs&) = delete;

    const std::filesystem::path& path() const { return path_; }
    int swept() const { return swept_; }

  private:
    std::filesystem::path path_;
    spdlog::logger& log_;
    int swept_ = 0;
};

}  // namespace nixjail::runner::services
