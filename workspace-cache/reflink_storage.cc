// ReflinkStorage: trees are recreated file by file, each file's data shared with FICLONE
// (XFS with reflink=1, or btrfs without the right to make subvolumes).
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "runner/base/error.h"
#include "workspace-cache/storage_backends.h"

namespace nixjail::cache {

namespace fs = std::filesystem;

namespace {

void cloneFileData(int in, int out, const fs::path& src) {
    if (::ioctl(out, FICLONE, in) != 0)
        throw base::SysError("cannot reflink '" + src.string() +
                             "' (FICLONE); is the cache on XFS or btrfs, on the same filesystem "
                             "as its source? set cache.storage: copy");
}

class ReflinkStorage final : public Storage {
  public:
    StorageKind kind() const override { return StorageKind::kReflink; }
    void create(const fs::path& path) override {
        if (::mkdir(path.c_str(), 0755) != 0)
            throw base::SysError("cannot create directory '" + path.string() + "'");
    }
    void snapshot(const fs::path& src, const fs::path& dst) override {
        copyTree(src, dst, cloneFileData);
    }
    void copyIn(const fs::path& src, const fs::path& dst) override {
        copyTree(src, dst, cloneOrCopyFileData);
    }
    void remove(const fs::path& path) override { removeTree(path); }
};

}  // namespace

std::unique_ptr<Storage> makeReflinkStorage() { return std::make_unique<ReflinkStorage>(); }

}  // namespace nixjail::cache
