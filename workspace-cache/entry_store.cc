// Build-once, pin, and LRU-evict for cache entries kept in one directory.
#include "workspace-cache/entry_store.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <system_error>

#include "runner/base/error.h"
#include "runner/base/file_io.h"

namespace nixjail::cache {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMarkerSuffix = ".done";
constexpr const char* kLockSuffix = ".lock";

void checkKey(const std::string& key) {
    bool ok = !key.empty() && key.size() <= 200 && key[0] != '.' && key != "tmp";
    for (char c : key)
        ok =
            ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
    if (!ok)
        throw base::Error("invalid cache key '" + key + "': use letters, digits, '-', '_', '.'");
}

}  // namespace

std::uint64_t treeSize(const fs::path& path) {
    std::uint64_t total = 0;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return 0;
    total += static_cast<std::uint64_t>(st.st_blocks) * 512;
    if (!S_ISDIR(st.st_mode)) return total;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(
             path, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (::lstat(it->path().c_str(), &st) == 0)
            total += static_cast<std::uint64_t>(st.st_blocks) * 512;
    }
    return total;
}

EntryStore::EntryStore(Storage& storage, fs::path dir) : storage_(storage), dir_(std::move(dir)) {
    std::error_code ec;
    fs::create_directories(dir_ / "tmp", ec);
    if (ec)
        throw base::Error("cannot create cache directory '" + dir_.string() + "': " + ec.message());
}

bool EntryStore::isComplete(const std::string& key) const {
    std::error_code ec;
    return fs::exists(dir_ / (key + kMarkerSuffix), ec) && fs::is_directory(dir_ / key, ec);
}

void EntryStore::removeEntry(const std::string& key) {
    // Marker first: an entry interrupted half-way through removal reads as half-built.
    if (::unlink((dir_ / (key + kMarkerSuffix)).c_str()) != 0 && errno != ENOENT)
        throw base::SysError("cannot remove marker of cache entry '" + (dir_ / key).string() + "'");
    storage_.remove(dir_ / key);
}

void EntryStore::build(const std::string& key, const Builder& build) {
    // Caller holds the exclusive lock: whatever is at these paths is a crashed build's leftover.
    removeEntry(key);
    fs::path tmp = dir_ / "tmp" / key;
    storage_.remove(tmp);
    SubvolumeLease lease = SubvolumeLease::create(storage_, tmp);
    build(tmp);
    std::uint64_t size = treeSize(tmp);
    lease.promote(dir_ / key);
    base::writeFileAtomic(dir_ / (key + kMarkerSuffix), std::to_string(size) + "\n");
}

EntryPin EntryStore::acquire(const std::string& key, const Builder& builder) {
    checkKey(key);
    FileLock lock(dir_ / (key + kLockSuffix));
    bool hit = true;
    for (;;) {
        lock.lock(LockMode::kShared);
        if (isComplete(key)) break;
        lock.lock(LockMode::kExclusive);
        if (!isComplete(key)) {
            hit = false;
            build(key, builder);
        }
        // Downgrading is unlock + lock, so an evictor may slip in between: check again.
    }
    // Last use for LRU; failing to record it only makes the entry look older.
    if (::utimensat(AT_FDCWD, (dir_ / (key + kMarkerSuffix)).c_str(), nullptr, 0) != 0)
        spdlog::debug("touching marker of '{}' failed, ignoring: {}", key, std::strerror(errno));
    return EntryPin(key, dir_ / key, hit, std::move(lock));
}

std::vector<EntryInfo> EntryStore::list() const {
    std::vector<EntryInfo> out;
    std::error_code ec;
    for (const auto& de : fs::directory_iterator(dir_, ec)) {
        std::string name = de.path().filename().string();
        if (!name.ends_with(kMarkerSuffix)) continue;
        EntryInfo info;
        info.key = name.substr(0, name.size() - std::string_view(kMarkerSuffix).size());
        try {
            info.size_bytes = std::stoull(base::readFile(de.path()));
        } catch (const std::exception&) {
            info.size_bytes = 0;  // unreadable marker: still listed, evicted first by size 0
        }
        struct stat st {};
        if (::stat(de.path().c_str(), &st) == 0)
            info.last_used =
                std::chrono::system_clock::time_point(std::chrono::seconds(st.st_mtim.tv_sec) +
                                                      std::chrono::nanoseconds(st.st_mtim.tv_nsec));
        FileLock probe(dir_ / (info.key + kLockSuffix));
        info.in_use = !probe.tryLock(LockMode::kExclusive);
        out.push_back(std::move(info));
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.last_used < b.last_used; });
    return out;
}

std::vector<std::string> EntryStore::prune(std::uint64_t budget_bytes) {
    std::vector<std::string> removed;
    // Half-built leftovers: a tree without a marker whose lock nobody holds.
    std::error_code ec;
    for (const auto& de : fs::directory_iterator(dir_, ec)) {
        std::string name = de.path().filename().string();
        if (name == "tmp" || !de.is_directory() || name.find('.') != std::string::npos) continue;
        if (fs::exists(dir_ / (name + kMarkerSuffix))) continue;
        FileLock lock(dir_ / (name + kLockSuffix));
        if (!lock.tryLock(LockMode::kExclusive) || isComplete(name)) continue;
        removeEntry(name);
        storage_.remove(dir_ / "tmp" / name);
        removed.push_back(name);
    }
    // Trees a crashed builder left in tmp/ (a live builder holds the key's exclusive lock).
    for (const auto& de : fs::directory_iterator(dir_ / "tmp", ec)) {
        std::string name = de.path().filename().string();
        FileLock lock(dir_ / (name + kLockSuffix));
        if (!lock.tryLock(LockMode::kExclusive)) continue;
        storage_.remove(de.path());
        removed.push_back("tmp/" + name);
    }
    auto entries = list();
    std::uint64_t total = 0;
    for (const auto& e : entries) total += e.size_bytes;
    for (const auto& e : entries) {
        if (total <= budget_bytes) break;
        FileLock lock(dir_ / (e.key + kLockSuffix));
        if (!lock.tryLock(LockMode::kExclusive)) continue;  // pinned by a running job
        removeEntry(e.key);
        total -= e.size_bytes;
        removed.push_back(e.key);
    }
    return removed;
}

}  // namespace nixjail::cache
