// Backend selection (by name or by probing a directory) and SubvolumeLease.
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <unistd.h>

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

bool canCreateSubvolume(const fs::path& probe_dir) {
    auto btrfs = makeBtrfsStorage();
    try {
        btrfs->create(probe_dir / "subvol");
        btrfs->remove(probe_dir / "subvol");
        return true;
    } catch (const base::Error& e) {
        spdlog::debug("btrfs subvolume probe in '{}' failed: {}", probe_dir.string(), e.what());
        return false;
    }
}

bool canReflink(const fs::path& probe_dir) {
    using base::UniqueFd;
    UniqueFd a(::open((probe_dir / "a").c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    UniqueFd b(::open((probe_dir / "b").c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!a || !b) throw base::SysError("cannot create probe files in '" + probe_dir.string() + "'");
    if (::write(a.get(), "probe", 5) != 5)
        throw base::SysError("cannot write probe file in '" + probe_dir.string() + "'");
    return ::ioctl(b.get(), FICLONE, a.get()) == 0;
}

}  // namespace

StorageKind detectStorageKind(const fs::path& dir) {
    struct statfs sfs {};
    if (::statfs(dir.c_str(), &sfs) != 0)
        throw base::SysError("cannot statfs cache directory '" + dir.string() + "'");
    base::TempDir probe(".storage-probe-", dir);
    if (static_cast<unsigned long>(sfs.f_type) == BTRFS_SUPER_MAGIC &&
        canCreateSubvolume(probe.path()))
        return StorageKind::kBtrfs;
    if (canReflink(probe.path())) return StorageKind::kReflink;
    return StorageKind::kCopy;
}

std::unique_ptr<Storage> detectStorage(const fs::path& dir) {
    return makeStorage(detectStorageKind(dir));
}

SubvolumeLease::SubvolumeLease(Storage& storage, fs::path path)
    : storage_(&storage), path_(std::move(path)) {}

SubvolumeLease SubvolumeLease::create(Storage& storage, const fs::path& path) {
    storage.create(path);
    return SubvolumeLease(storage, path);
}

SubvolumeLease SubvolumeLease::snapshotOf(Storage& storage, const fs::path& src,
                                          const fs::path& dst) {
    try {
        storage.snapshot(src, dst);
    } catch (...) {
        // A failed file-by-file copy leaves a partial tree behind; it is ours to remove.
        try {
            storage.remove(dst);
        } catch (const std::exception& e) {
            spdlog::warn("removing partial snapshot '{}' failed, ignoring: {}", dst.string(),
                         e.what());
        }
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
