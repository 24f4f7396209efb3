// BtrfsStorage: trees are subvolumes; create, snapshot and delete are single kernel ioctls, so
// a cached entry costs one snapshot per job whatever its size.
#include <fcntl.h>
#include <linux/btrfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "runner/base/error.h"
#include "runner/base/unique_fd.h"
#include "workspace-cache/storage_backends.h"

namespace nixjail::cache {

namespace fs = std::filesystem;
using base::SysError;
using base::UniqueFd;

namespace {

// The root directory of every btrfs subvolume has this inode number.
constexpr ino_t kSubvolumeRootInode = 256;

UniqueFd openDir(const fs::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw SysError("cannot open directory '" + path.string() + "'");
    return fd;
}

// Fills `name` with the last component of `path`, checking that it fits the ioctl's buffer.
template <size_t N>
void setName(char (&name)[N], const fs::path& path) {
    std::string leaf = path.filename().string();
    if (leaf.empty() || leaf.size() >= N)
        throw base::Error("invalid subvolume name '" + path.string() + "'");
    std::memset(name, 0, N);
    std::memcpy(name, leaf.data(), leaf.size());
}

class BtrfsStorage final : public Storage {
  public:
    StorageKind kind() const override { return StorageKind::kBtrfs; }

    void create(const fs::path& path) override {
        UniqueFd parent = openDir(path.parent_path());
        struct btrfs_ioctl_vol_args args {};
        setName(args.name, path);
        if (::ioctl(parent.get(), BTRFS_IOC_SUBVOL_CREATE, &args) != 0)
            throw SysError("cannot create subvolume '" + path.string() +
                           "'; is the cache on btrfs? set cache.storage: reflink or copy");
    }

    void snapshot(const fs::path& src, const fs::path& dst) override {
        UniqueFd source = openDir(src);
        UniqueFd parent = openDir(dst.parent_path());
        struct btrfs_ioctl_vol_args_v2 args {};
        args.fd = source.get();
        setName(args.name, dst);
        if (::ioctl(parent.get(), BTRFS_IOC_SNAP_CREATE_V2, &args) != 0)
            throw SysError("cannot snapshot subvolume '" + src.string() + "' to '" + dst.string() +
                           "'; is the source a subvolume on the same btrfs? set cache.storage: "
                           "reflink or copy");
    }

    void copyIn(const fs::path& src, const fs::path& dst) override {
        copyTree(src, dst, cloneOrCopyFileData);
    }

    void remove(const fs::path& path) override {
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) {
            if (errno == ENOENT) return;
            throw SysError("cannot stat '" + path.string() + "'");
        }
        if (!S_ISDIR(st.st_mode) || st.st_ino != kSubvolumeRootInode) {
            removeTree(path);  // a plain directory, e.g. left by a crash before create()
            return;
        }
        UniqueFd parent = openDir(path.parent_path());
        struct btrfs_ioctl_vol_args_v2 args {};
        setName(args.name, path);
        if (::ioctl(parent.get(), BTRFS_IOC_SNAP_DESTROY_V2, &args) == 0) return;
        if (errno != ENOTTY && errno != EOPNOTSUPP)
            throw SysError("cannot delete subvolume '" + path.string() +
                           "'; does it contain nested subvolumes or a mount?");
        // Kernels before 5.7 only know the v1 call.
        struct btrfs_ioctl_vol_args v1 {};
        setName(v1.name, path);
        if (::ioctl(parent.get(), BTRFS_IOC_SNAP_DESTROY, &v1) != 0)
            throw SysError("cannot delete subvolume '" + path.string() + "'");
    }
};

}  // namespace

std::unique_ptr<Storage> makeBtrfsStorage() { return std::make_unique<BtrfsStorage>(); }

}  // namespace nixjail::cache
