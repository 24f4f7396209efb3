// UploadTable: the uploads in progress, one `<dir>/<id>.part` file each, with what arrived of it
// and when it was last written to. Not thread-safe: CacheStore calls it under its lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "runner/base/unique_fd.h"
#include "runner/cache_server/byte_ranges.h"

namespace nixjail::runner::cache_server {

// The entry an upload becomes when it is committed.
struct CacheKey {
    std::string scope;  // the repository, e.g. "owner/repo"
    std::string key;
    std::string version;
    bool operator==(const CacheKey&) const = default;
};

struct Upload {
    CacheKey name;
    std::uint64_t declared_size = 0;  // 0: not declared
    base::UniqueFd fd;
    ByteRanges ranges;
    std::chrono::steady_clock::time_point last_activity;
    std::uint64_t high = 0;  // the end of the furthest chunk: what it holds on disk, at most
};

class UploadTable {
  public:
    // Deletes the part files an earlier run left in `dir`: their clients are gone. An upload idle
    // for `idle_limit` may be dropped to free its key or its room.
    UploadTable(std::filesystem::path dir, std::chrono::steady_clock::duration idle_limit);
    // Deletes the files of uploads still in progress: they can never be committed now.
    ~UploadTable();
    UploadTable(const UploadTable&) = delete;
    UploadTable& operator=(const UploadTable&) = delete;

    // One more than the highest id of the part files found at start (1 if none).
    std::uint64_t nextIdOnDisk() const { return next_id_on_disk_; }
    // The bytes the part files hold on disk at most (the sum of each upload's `high`).
    std::uint64_t bytes() const { return bytes_; }

    // Makes `name` free for a new upload: throws CacheRefused(kConflict) while another upload of
    // it is active, and drops one that went idle (its client went away without committing).
    void claim(const CacheKey& name);
    // Creates the part file of upload `id`; throws CacheRefused(kStorage).
    void start(std::uint64_t id, CacheKey name, std::uint64_t declared_size);
    // Upload `id` of `scope`; throws CacheRefused(kNotFound).
    const Upload& find(const std::string& scope, std::uint64_t id) const;
    // Writes `data` at `offset` of upload `id` (found before); throws CacheRefused(kStorage).
    void write(std::uint64_t id, std::uint64_t offset, std::string_view data);
    // Checks that exactly [0, size) of upload `id` arrived, flushes it, moves its file to
    // `destination` and forgets the upload; returns its name. Throws CacheRefused (kBadRequest:
    // incomplete, kStorage), and then the upload stays.
    CacheKey finish(std::uint64_t id, std::uint64_t size, const std::filesystem::path& destination);
    // Deletes upload `id` and its file, if there is one.
    void drop(std::uint64_t id);
    // Drops the first idle upload other than `except`; false when there is none.
    bool dropOneIdle(std::uint64_t except);

  private:
    std::filesystem::path path(std::uint64_t id) const;
    bool isIdle(const Upload& u, std::chrono::steady_clock::time_point now) const;

    const std::filesystem::path dir_;
    const std::chrono::steady_clock::duration idle_limit_;
    std::uint64_t next_id_on_disk_ = 1;
    std::map<std::uint64_t, Upload> uploads_;
    std::uint64_t bytes_ = 0;
};

}  // namespace nixjail::runner::cache_server
