// CopyStorage: plain copies; works everywhere, costs the full size and time of every tree.
#include <sys/stat.h>

#include "runner/base/error.h"
#include "workspace-cache/storage_backends.h"

namespace nixjail::cache {

namespace fs = std::filesystem;

namespace {

class CopyStorage final : public Storage {
  public:
    StorageKind kind() const override { return StorageKind::kCopy; }
    void create(const fs::path& path) override {
        if (::mkdir(path.c_str(), 0755) != 0)
            throw base::SysError("cannot create directory '" + path.string() + "'");
    }
    void snapshot(const fs::path& src, const fs::path& dst) override {
        copyTree(src, dst, copyFileData);
    }
    void copyIn(const fs::path& src, const fs::path& dst) override {
        copyTree(src, dst, copyFileData);
    }
    void remove(const fs::path& path) override { removeTree(path); }
};

}  // namespace

std::unique_ptr<Storage> makeCopyStorage() { return std::make_unique<CopyStorage>(); }

}  // namespace nixjail::cache
