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

JobDirs::JobDirs(const fs::path& parent, const std::string& runner_uuid, spdlog::logger& log)
    : path_(parent / ("nixjail-daemon-" + runner_uuid)), log_(log) {
    std::error_code ec;
    if (fs::exists(path_, ec)) {
        auto mounts = base::mountPoints();
        for (const auto& entry : fs::directory_iterator(path_, ec)) {
            // A job's disk-quota volume (engine::JobSandbox) and its root when that is an overlay
            // over the cached root (cache::OverlayRoot) are ours to unmount; a volume's loop
            // device detaches itself then (autoclear), and the image and the overlay's layer go
            // with the directory.
            for (const char* name : {"volume", "root"}) {
                const fs::path ours = entry.path() / name;
                if (std::find(mounts.begin(), mounts.end(), ours.string()) == mounts.end()) continue;
                if (::umount2(ours.c_str(), MNT_DETACH) == 0) {
                    log_.info("unmounted the job {} '{}' of a previous run", name, ours.string());
                } else {
                    log_.warn("unmounting the job {} '{}' of a previous run failed: {}", name,
                              ours.string(), strerror(errno));
                }
                mounts = base::mountPoints();
            }
            if (hasMountBelow(entry.path(), mounts)) {
                log_.warn("leaving '{}' from a previous run: something is mounted below it",
                          entry.path().string());
                continue;
            }
            std::error_code rm;
            fs::remove_all(entry.path(), rm);
            if (rm) {
                log_.warn("removing '{}' from a previous run failed, ignoring: {}",
                          entry.path().string(), rm.message());
            } else {
                ++swept_;
            }
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
