// Backend selection (by name or by probing a directory) and SubvolumeLease.
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "runner/base/error.h"
#include "runner/base/temp_dir.h"
#include "runner/base/unique_fd.h"
#include "workspace-cache/storage_backends.h"

namespace nixjail::cache {

namespace fs = std::filesystem;

std::string_view toString(StorageKind kind) {
    switch (kind) {
        case StorageKind::kBtrfs:
            return "btrfs";
        case StorageKind::kReflink:
            return "reflink";
        case StorageKind::kCopy:
            return "copy";
    }
    return "unknown";
}

std::optional<StorageKind> parseStorageKind(std::string_view name) {
    for (auto k : {StorageKind::kBtrfs, StorageKind::kReflink, StorageKind::kCopy})
        if (toString(k) == name) return k;
    return std::nullopt;
}

std::unique_ptr<Storage> makeStorage(StorageKind kind) {
    switch (kind) {
        case StorageKind::kBtrfs:
            return makeBtrfsStorage();
        case StorageKind::kReflink:
            return makeReflinkStorage();
        case StorageKind::kCopy:
            return makeCopyStorage();
    }
    throw base::Error("unknown storage kind");
}

namespace {

// Why a subvolume cannot be made in `probe_dir`, or empty when it can.
std::string subvolumeProblem(const fs::path& probe_dir) {
    auto btrfs = makeBtrfsStorage();
    try {
        btrfs->create(probe_dir / "subvol");
        btrfs->remove(probe_dir / "subvol");
        return {};
    } catch (const base::Error& e) {
        spdlog::debug("btrfs subvolume probe in '{}' failed: {}", probe_dir.string(), e.what());
        return e.what();
    }
}

// Why FICLONE fails in `probe_dir`, or empty when it works.
std::string reflinkProblem(const fs::path& probe_dir) {
    using base::UniqueFd;
    UniqueFd a(::open((probe_dir / "a").c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    UniqueFd b(::open((probe_dir / "b").c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!a || !b) throw base::SysError("cannot create probe files in '" + probe_dir.string() + "'");
    if (::write(a.get(), "probe", 5) != 5)
        throw base::SysError("cannot write probe file in '" + probe_dir.string() + "'");
    if (::ioctl(b.get(), FICLONE, a.get()) == 0) return {};
    return std::string("FICLONE: ") + std::strerror(errno);
}

unsigned long filesystemType(const fs::path& dir) {
    struct statfs sfs {};
    if (::statfs(dir.c_str(), &sfs) != 0)
        throw base::SysError("cannot statfs cache directory '" + dir.string() + "'");
    return static_cast<unsigned long>(sfs.f_type);
}

std::string filesystemName(unsigned long type) {
    switch (type) {
        case BTRFS_SUPER_MAGIC:
            return "btrfs";
        case EXT4_SUPER_MAGIC:  // ext2/3/4 share the magic
            return "ext4";
        case TMPFS_MAGIC:
            return "tmpfs";
        case XFS_SUPER_MAGIC:
            return "xfs";
        case OVERLAYFS_SUPER_MAGIC:
            return "overlayfs";
        case NFS_SUPER_MAGIC:
            return "nfs";
    }
    return fmt::format("filesystem type {:#x}", type);
}

[[noreturn]] void cannotUse(const fs::path& dir, StorageKind kind, const std::string& why,
                            const std::string& todo) {
    throw base::Error("cache directory '" + dir.string() + "' cannot use storage '" +
                      std::string(toString(kind)) + "': " + why + "; " + todo +
                      ", or choose another backend with cache.storage (exec and cache: "
                      "--storage): auto detects the best one that works");
}

}  // namespace

StorageKind detectStorageKind(const fs::path& dir) {
    const unsigned long type = filesystemType(dir);
    // ext2/3/4 and tmpfs share no extents (no FICLONE): copies, without the probe (a directory and
    // two files made and removed, about 1 ms of each exec on ext4, where recently freed inodes
    // make every create slow).
    if (type == EXT4_SUPER_MAGIC || type == TMPFS_MAGIC) return StorageKind::kCopy;
    base::TempDir probe(".storage-probe-", dir);
    if (type == BTRFS_SUPER_MAGIC && subvolumeProblem(probe.path()).empty())
        return StorageKind::kBtrfs;
    if (reflinkProblem(probe.path()).empty()) return StorageKind::kReflink;
    return StorageKind::kCopy;
}

std::unique_ptr<Storage> detectStorage(const fs::path& dir) {
    return makeStorage(detectStorageKind(dir));
}

std::optional<StorageKind> parseStorageChoice(std::string_view name, std::string_view where) {
    if (name == "auto") return std::nullopt;
    if (auto kind = parseStorageKind(name)) return kind;
    throw base::Error(std::string(where) + ": unknown storage '" + std::string(name) +
                      "'; use auto, btrfs, reflink or copy");
}

std::unique_ptr<Storage> openStorage(const fs::path& dir, std::optional<StorageKind> wanted) {
    if (!wanted) return detectStorage(dir);
    if (*wanted == StorageKind::kBtrfs) {
        const unsigned long type = filesystemType(dir);
        if (type != BTRFS_SUPER_MAGIC) {
            cannotUse(dir, *wanted, "it is on " + filesystemName(type) + ", not btrfs",
                      "move the cache directory onto a btrfs filesystem");
        }
        base::TempDir probe(".storage-probe-", dir);
        if (auto why = subvolumeProblem(probe.path()); !why.empty()) {
            cannotUse(dir, *wanted, why,
                      "run the runner as root (creating and deleting subvolumes needs it) or mount "
                      "the filesystem with user_subvol_rm_allowed");
        }
    } else if (*wanted == StorageKind::kReflink) {
        base::TempDir probe(".storage-probe-", dir);
        if (auto why = reflinkProblem(probe.path()); !why.empty()) {
            cannotUse(dir, *wanted,
                      "its filesystem (" + filesystemName(filesystemType(dir)) +
                          ") cannot share file extents (" + why + ")",
                      "move the cache directory onto XFS (reflink=1) or btrfs");
        }
    }
    return makeStorage(*wanted);
}

SubvolumeLease::SubvolumeLease(Storage& storage, fs::path path)
    : storage_(&storage), path_(std::move(path)) {}

SubvolumeLease SubvolumeLease::create(Storage& storage, const fs::path& path) {
    storage.create(path);
    return SubvolumeLease(storage, path);
}

namespace {

// True unless `a` and `b` are known to be on different mounts. The mount, not st_dev: every btrfs
// subvolume has a device number of its own, and snapshots between them are the point.
bool onOneMount(const fs::path& a, const fs::path& b) {
    struct statx sa {}, sb {};
    if (::statx(AT_FDCWD, a.c_str(), 0, STATX_MNT_ID, &sa) != 0 ||
        ::statx(AT_FDCWD, b.c_str(), 0, STATX_MNT_ID, &sb) != 0 ||
        !(sa.stx_mask & STATX_MNT_ID) || !(sb.stx_mask & STATX_MNT_ID)) {
        return true;  // unknown: let the snapshot try and say what failed
    }
    return sa.stx_mnt_id == sb.stx_mnt_id;
}

}  // namespace

SubvolumeLease SubvolumeLease::snapshotOf(Storage& storage, const fs::path& src,
                                          const fs::path& dst) {
    auto removePartial = [&] {
        // A failed file-by-file copy leaves a partial tree behind; it is ours to remove.
        try {
            storage.remove(dst);
        } catch (const std::exception& e) {
            spdlog::warn("removing partial snapshot '{}' failed, ignoring: {}", dst.string(),
                         e.what());
        }
    };
    try {
        // Snapshots and reflinks stay within one filesystem: a job directory elsewhere (a TMPDIR
        // on another disk, a job's own size-limited volume) gets a copy.
        if (onOneMount(src, dst.parent_path())) {
            storage.snapshot(src, dst);
        } else {
            storage.copyIn(src, dst);
        }
    } catch (...) {
        removePartial();
        throw;
    }
    return SubvolumeLease(storage, dst);
}

SubvolumeLease::SubvolumeLease(SubvolumeLease&& o) noexcept
    : storage_(std::exchange(o.storage_, nullptr)), path_(std::move(o.path_)) {}

SubvolumeLease& SubvolumeLease::operator=(SubvolumeLease&& o) noexcept {
    if (this != &o) {
        SubvolumeLease old(std::move(*this));  // removes what we held, when it goes out of scope
        storage_ = std::exchange(o.storage_, nullptr);
        path_ = std::move(o.path_);
    }
    return *this;
}

SubvolumeLease::~SubvolumeLease() {
    if (!storage_) return;
    try {
        storage_->remove(path_);
    } catch (const std::exception& e) {
        spdlog::warn("removing '{}' failed, ignoring: {}", path_.string(), e.what());
    }
}

fs::path SubvolumeLease::promote(const fs::path& final_path) {
    if (!storage_) throw base::Error("cannot promote '" + path_.string() + "': lease is empty");
    if (::rename(path_.c_str(), final_path.c_str()) != 0)
        throw base::SysError("cannot move '" + path_.string() + "' to '" + final_path.string() +
                             "'");
    storage_ = nullptr;
    path_ = final_path;
    return path_;
}

void SubvolumeLease::remove() {
    if (!storage_) return;
    storage_->remove(path_);
    storage_ = nullptr;
}

}  // namespace nixjail::cache
