// Storage: where cache entries and per-job trees live (btrfs subvolumes, reflinked or plain
// copies).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>

namespace nixjail::cache {

enum class StorageKind { kBtrfs, kReflink, kCopy };

std::string_view toString(StorageKind kind);
// Accepts "btrfs", "reflink", "copy"; nullopt otherwise.
std::optional<StorageKind> parseStorageKind(std::string_view name);

// One tiny interface, one file per backend. Paths are absolute; parents must exist.
class Storage {
  public:
    virtual ~Storage() = default;
    virtual StorageKind kind() const = 0;
    // Creates an empty, writable tree at `path` (a subvolume on btrfs); `path` must not exist.
    virtual void create(const std::filesystem::path& path) = 0;
    // Makes `dst` a writable copy of the tree `src` made by create() or snapshot(): a btrfs
    // snapshot, a reflinked copy, or a plain copy. `dst` must not exist.
    virtual void snapshot(const std::filesystem::path& src, const std::filesystem::path& dst) = 0;
    // Copies an arbitrary directory (e.g. a Nix store path) to `dst` inside a tree, sharing
    // extents where the backend can. Modes and symlinks are kept; `dst` must not exist.
    virtual void copyIn(const std::filesystem::path& src, const std::filesystem::path& dst) = 0;
    // Removes the tree at `path`; a missing path is not an error.
    virtual void remove(const std::filesystem::path& path) = 0;
};

// The backend for `kind`; does not probe (a btrfs backend on ext4 fails on first use).
std::unique_ptr<Storage> makeStorage(StorageKind kind);

// Picks the cheapest backend that works in `dir` (which must exist): btrfs when statfs says btrfs
// and creating a subvolume succeeds, reflink when FICLONE succeeds, copy otherwise.
StorageKind detectStorageKind(const std::filesystem::path& dir);
std::unique_ptr<Storage> detectStorage(const std::filesystem::path& dir);

// A configured choice: "auto" gives nullopt (detect per directory), "btrfs" | "reflink" | "copy"
// that backend. Throws base::Error naming `where` (e.g. "--storage") for anything else.
std::optional<StorageKind> parseStorageChoice(std::string_view name, std::string_view where);

// The backend for `dir` (which must exist): detected when `wanted` is nullopt, else `wanted` after
// proving it works there (btrfs: the directory is on btrfs and a subvolume can be made; reflink:
// FICLONE succeeds; copy: always). A forced backend that cannot work throws base::Error naming
// the directory, the backend, why, and what to do; it never falls back to another one.
std::unique_ptr<Storage> openStorage(const std::filesystem::path& dir,
                                     std::optional<StorageKind> wanted);

// Owns a tree made through a Storage and removes it when destroyed, unless promote()d.
class SubvolumeLease {
  public:
    SubvolumeLease() = default;
    // Adopts the existing tree at `path`.
    SubvolumeLease(Storage& storage, std::filesystem::path path);
    static SubvolumeLease create(Storage& storage, const std::filesystem::path& path);
    // A snapshot of `src` at `dst`; a copy (file data cloned where it can be) when `dst` is on
    // another filesystem, where no snapshot or reflink can reach.
    static SubvolumeLease snapshotOf(Storage& storage, const std::filesystem::path& src,
                                     const std::filesystem::path& dst);
    SubvolumeLease(SubvolumeLease&& o) noexcept;
    SubvolumeLease& operator=(SubvolumeLease&& o) noexcept;
    SubvolumeLease(const SubvolumeLease&) = delete;
    SubvolumeLease& operator=(const SubvolumeLease&) = delete;
    ~SubvolumeLease();

    const std::filesystem::path& path() const { return path_; }
    bool owns() const { return storage_ != nullptr; }
    // Renames the tree to `final_path` (same filesystem) and gives up ownership.
    std::filesystem::path promote(const std::filesystem::path& final_path);
    // Removes the tree now; throws on failure.
    void remove();
    // Gives the tree up without removing it: whoever removes the directory holding it takes it
    // (a job moved it somewhere its path no longer reaches safely).
    void disown() { storage_ = nullptr; }

  private:
    Storage* storage_ = nullptr;
    std::filesystem::path path_;
};

}  // namespace nixjail::cache
