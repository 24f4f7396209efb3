// Start-up removal of job directories a killed daemon left behind, never across mount points.
#include "runner/services/job_dirs.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "runner/base/error.h"
#include "runner/base/mount_table.h"

namespace nixjail::runner::services {

namespace {

namespace fs = std::filesystem;

bool hasMountBelow(const fs::path& dir, const std::vector<std::string>& mounts) {
    const std::string prefix = dir.string();
    for (const auto& m : mounts) {
        if (m == prefix || m.rfind(prefix + "/", 0) == 0) return true;
    }
    return false;
}

}  // namespace

bool removeJobDirectory(const fs::path& dir, spdlog::logger& log) {
    auto mounts = base::mountPoints();
    // A job's disk-quota volume (engine::JobSandbox) and its root when that is an overlay over
    // the cached root (cache::OverlayRoot) are ours to unmount; a volume's loop device detaches
    // itself then (autoclear), and the image and the overlay's layer go with the directory.
    for (const char* name : {"volume", "root"}) {
        const fs::path ours = dir / name;
        if (std::find(mounts.begin(), mounts.end(), ours.string()) == mounts.end()) continue;
        if (::umount2(ours.c_str(), MNT_DETACH) == 0) {
            log.info("unmounted the job {} '{}' of a previous run", name, ours.string());
        } else {
            log.warn("unmounting the job {} '{}' of a previous run failed: {}", name, ours.string(),
                     strerror(errno));
        }
        mounts = base::mountPoints();
    }
    if (hasMountBelow(dir, mounts)) {
        log.warn("leaving '{}' from a previous run: something is mounted below it", dir.string());
        return false;
    }
    std::error_code rm;
    fs::remove_all(dir, rm);
    if (rm) {
        log.warn("removing '{}' from a previous run failed, ignoring: {}", dir.string(), rm.message());
        return false;
    }
    return true;
}

JobDirs::JobDirs(const fs::path& parent, const std::string& runner_uuid, spdlog::logger& log)
    : path_(parent / ("nixjail-daemon-" + runner_uuid)), log_(log) {
    std::error_code ec;
    if (fs::exists(path_, ec)) {
        for (const auto& entry : fs::directory_iterator(path_, ec)) {
            if (removeJobDirectory(entry.path(), log_)) ++swept_;
        }
    }
    fs::create_directories(path_, ec);
    if (ec || ::chmod(path_.c_str(), 0711) != 0) {
        throw base::Error("cannot create the job directory '" + path_.string() + "': " +
                          (ec ? ec.message() : std::string(strerror(errno))) +
                          "; check that the cache directory is writable");
    }
}

JobDirs::~JobDirs() {
    std::error_code ec;
    fs::remove(path_,
               ec);  // only when empty: a job directory still there is kept for the next sweep
    if (ec) log_.warn("removing '{}' failed, ignoring: {}", path_.string(), ec.message());
}

}  // namespace nixjail::runner::services
