// UploadTable: part files are written with pwrite as chunks come, in any order; a commit flushes
// the file and renames it into the entries directory.
#include "runner/cache_server/upload_table.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "runner/cache_server/cache_refused.h"

namespace nixjail::runner::cache_server {

namespace fs = std::filesystem;

namespace {

std::uint64_t idOf(const fs::path& p) {
    try {
        return std::stoull(p.stem().string());
    } catch (const std::exception&) {
        return 0;
    }
}

}  // namespace

UploadTable::UploadTable(fs::path dir, std::chrono::steady_clock::duration idle_limit)
    : dir_(std::move(dir)), idle_limit_(idle_limit) {
    std::error_code ec;
    for (const auto& de : fs::directory_iterator(dir_)) {
        fs::remove(de.path(), ec);
        next_id_on_disk_ = std::max(next_id_on_disk_, idOf(de.path()) + 1);
    }
}

UploadTable::~UploadTable() {
    std::error_code ec;
    for (const auto& [id, u] : uploads_) fs::remove(path(id), ec);
}

fs::path UploadTable::path(std::uint64_t id) const { return dir_ / (std::to_string(id) + ".part"); }

bool UploadTable::isIdle(const Upload& u, std::chrono::steady_clock::time_point now) const {
    return now - u.last_activity >= idle_limit_;
}

void UploadTable::claim(const CacheKey& name) {
    for (const auto& [id, u] : uploads_) {
        if (u.name != name) continue;
        if (!isIdle(u, std::chrono::steady_clock::now())) {
            throw CacheRefused(CacheRefusal::kConflict,
                               "cache entry '" + name.key + "' is being uploaded by another job");
        }
        drop(id);  // its client went away without committing (a killed job): the key is free
        return;
    }
}

void UploadTable::start(std::uint64_t id, CacheKey name, std::uint64_t declared_size) {
    base::UniqueFd fd(::open(path(id).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd) {
        throw CacheRefused(CacheRefusal::kStorage,
                           "cannot create '" + path(id).string() + "': " + std::strerror(errno));
    }
    Upload u;
    u.name = std::move(name);
    u.declared_size = declared_size;
    u.fd = std::move(fd);
    u.last_activity = std::chrono::steady_clock::now();
    uploads_.emplace(id, std::move(u));
}

const Upload& UploadTable::find(const std::string& scope, std::uint64_t id) const {
    auto it = uploads_.find(id);
    if (it == uploads_.end() || it->second.name.scope != scope) {
        throw CacheRefused(CacheRefusal::kNotFound,
                           "no upload in progress with cache id " + std::to_string(id));
    }
    return it->second;
}

void UploadTable::write(std::uint64_t id, std::uint64_t offset, std::string_view data) {
    auto& u = uploads_.at(id);
    for (std::size_t done = 0; done < data.size();) {
        ssize_t n = ::pwrite(u.fd.get(), data.data() + done, data.size() - done,
                             static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            throw CacheRefused(CacheRefusal::kStorage,
                               "cannot write to '" + path(id).string() +
                                   "': " + std::strerror(n < 0 ? errno : ENOSPC));
        }
        done += static_cast<std::size_t>(n);
    }
    u.last_activity = std::chrono::steady_clock::now();
    const std::uint64_t end = offset + data.size();
    if (end > u.high) {
        bytes_ += end - u.high;
        u.high = end;
    }
    u.ranges.add(offset, end);
}

CacheKey UploadTable::finish(std::uint64_t id, std::uint64_t size, const fs::path& destination) {
    auto it = uploads_.find(id);
    auto& u = it->second;
    if (!u.ranges.coversExactly(size)) {
        throw CacheRefused(CacheRefusal::kBadRequest,
                           "commit of '" + u.name.key + "' says " + std::to_string(size) +
                               " bytes but " + std::to_string(u.ranges.total()) + " bytes in " +
                               std::to_string(u.ranges.count()) +
                               " range(s) were uploaded; upload every chunk before committing");
    }
    if (::fsync(u.fd.get()) != 0 || ::ftruncate(u.fd.get(), static_cast<off_t>(size)) != 0) {
        throw CacheRefused(CacheRefusal::kStorage,
                           "cannot flush '" + path(id).string() + "': " + std::strerror(errno));
    }
    std::error_code ec;
    fs::rename(path(id), destination, ec);
    if (ec) {
        throw CacheRefused(CacheRefusal::kStorage,
                           "cannot publish cache entry '" + u.name.key + "': " + ec.message());
    }
    CacheKey name = std::move(u.name);
    bytes_ -= u.high;
    uploads_.erase(it);
    return name;
}

void UploadTable::drop(std::uint64_t id) {
    auto it = uploads_.find(id);
    if (it == uploads_.end()) return;
    std::error_code ec;
    fs::remove(path(id), ec);
    bytes_ -= it->second.high;
    uploads_.erase(it);
}

bool UploadTable::dropOneIdle(std::uint64_t except) {
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [id, u] : uploads_) {
        if (id != except && isIdle(u, now)) {
            drop(id);
            return true;
        }
    }
    return false;
}

}  // namespace nixjail::runner::cache_server
