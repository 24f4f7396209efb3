// Artifacts of `exec` runs on local disk: the files of artifact NAME of run RUN live at
// DIR/RUN/NAME/<item path>, as the client uploaded them (gzip-encoded uploads stay gzipped).
// Which artifacts are finalized and which files are gzipped is known for the store's lifetime
// (one run); files on disk are never trusted beyond being regular files under DIR.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runner/artifact_server/artifact_quota.h"
#include "runner/base/error.h"
#include "runner/base/unique_fd.h"

namespace nixjail::runner::artifact_server {

// A request the store refuses; `status()` is the HTTP status the server answers with.
class ArtifactRefused : public base::Error {
  public:
    ArtifactRefused(int status, const std::string& what) : base::Error(what), status_(status) {}
    int status() const { return status_; }

  private:
    int status_;
};

struct StoredFile {
    std::string path;  // "<name>/<relative path>"
    std::uint64_t size = 0;
    bool gzip = false;
};

struct OpenedFile {
    base::UniqueFd fd;
    std::uint64_t size = 0;
    bool gzip = false;
};

class ArtifactStore {
  public:
    // Creates `dir` if needed; throws base::Error when it cannot. Every byte written counts
    // against `quota` (null: a quota of its own with the default budget).
    explicit ArtifactStore(std::filesystem::path dir, std::shared_ptr<ArtifactQuota> quota = {});

    // Creates (or reopens for more files) artifact `name` of `run`; returns its container id.
    // Throws ArtifactRefused(400) for a bad run id or name.
    std::uint64_t create(const std::string& run, const std::string& name);
    // Writes `data` at `offset` of the artifact file named by `item_path` ("<name>/<path>");
    // `gzip` says the bytes are gzip-encoded (a chunk at offset 0 decides). A file longer than
    // `total` (the whole file's size, when known) is cut to it, so uploading a file again under
    // the same artifact name leaves no stale tail. The artifact must have been created and not
    // yet finalized. ArtifactRefused(413) beyond the quota, 507 when the disk is full: the file
    // is then removed, to free its space, and the artifact stays unfinished (finalize refuses it)
    // until the whole file is uploaded again. After another failed write, until that chunk is.
    void write(const std::string& run, const std::string& item_path, std::uint64_t offset,
               std::string_view data, bool gzip, std::optional<std::uint64_t> total = {});
    // Marks the artifact complete; only finalized artifacts are listed and downloadable.
    // ArtifactRefused(409) while a chunk whose write failed was not uploaded again.
    void finalize(const std::string& run, const std::string& name);
    // Whether artifact `name` of `run` was created (finalized or not).
    bool has(const std::string& run, const std::string& name) const;
    // Finalized artifact names of `run`, sorted.
    std::vector<std::string> finalized(const std::string& run) const;
    // The files of finalized artifact `name`, sorted by path; ArtifactRefused(404) when unknown.
    std::vector<StoredFile> files(const std::string& run, const std::string& name) const;
    // One file of a finalized artifact, for reading; ArtifactRefused(404) when there is none.
    OpenedFile open(const std::string& run, const std::string& item_path) const;

    const std::filesystem::path& dir() const { return dir_; }

  private:
    struct Artifact {
        std::uint64_t id = 0;
        bool finalized = false;
        std::map<std::string, bool> gzip;              // relative path -> gzip-encoded
        std::map<std::string, std::uint64_t> counted;  // relative path -> bytes in the quota
        // Relative path -> the first byte a failed write did not store, until a write covers it.
        std::map<std::string, std::uint64_t> failed_at;
    };
    // Splits "<name>/<path>" after checking it; throws ArtifactRefused(400).
    static std::pair<std::string, std::string> split(const std::string& item_path);
    static void checkRun(const std::string& run);
    static void markFailedLocked(Artifact& a, const std::string& rel, std::uint64_t offset);
    // A file that can no longer be completed (beyond the quota, or the disk is full) is removed,
    // so its bytes hold neither the quota nor the disk; its chunks must all come again.
    void discardLocked(Artifact& a, const std::string& rel, const std::filesystem::path& file);
    // Creates the file if needed and cuts it to `total`; then writeAt writes `data` at `offset`.
    static base::UniqueFd openForWrite(const std::filesystem::path& file,
                                       std::optional<std::uint64_t> total);
    static void writeAt(int fd, const std::filesystem::path& file, std::uint64_t offset,
                        std::string_view data);
    const Artifact* find(const std::string& run, const std::string& name) const;
    Artifact* find(const std::string& run, const std::string& name) {
        return const_cast<Artifact*>(std::as_const(*this).find(run, name));
    }

    std::filesystem::path dir_;
    std::shared_ptr<ArtifactQuota> quota_;
    mutable std::mutex mu_;
    std::uint64_t next_id_ = 1;
    std::map<std::string, std::map<std::string, Artifact>> runs_;
};

}  // namespace nixjail::runner::artifact_server
