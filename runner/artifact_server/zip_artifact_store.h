// Artifacts of the v4 API (@actions/artifact 2.x) on local disk: each is one zip the client made,
// stored as-is. A finalized artifact NAME of run RUN is the file DIR/v4/RUN/NAME.zip; while it is
// uploaded its blocks and its committed blob live under DIR/v4/RUN/.staging/<id>/ and only
// FinalizeArtifact renames the blob into place, so a half-written upload is never at NAME.zip.
// ("v4" is refused as a run id, so the v3 tree DIR/RUN/NAME/ cannot collide; NAME.zip never equals
// ".staging".) What is pending or finalized is known for the store's lifetime (one run); the
// destructor removes the staging directories of uploads never finalized.
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

#include "runner/artifact_server/artifact_store.h"
#include "runner/base/unique_fd.h"

namespace nixjail::runner::artifact_server {

// A finalized v4 artifact as ListArtifacts shows it.
struct ZipArtifact {
    std::uint64_t id = 0;
    std::string name;
    std::string job;  // workflow_job_run_backend_id of the job that created it
    std::uint64_t size = 0;
    std::string digest;  // "sha256:<hex>" as the client sent it at finalize, or empty
    std::int64_t created_unix = 0;
};

// One file being written into a staging directory: bytes go to a temporary name and appear
// under the final name only on commit(); the destructor removes an uncommitted file. Its bytes
// count against `quota` while it exists (a file it replaces on commit gives its bytes back).
class StagedFile {
  public:
    StagedFile(std::filesystem::path tmp, std::filesystem::path final_path,
               std::shared_ptr<ArtifactQuota> quota);
    ~StagedFile();
    StagedFile(StagedFile&&) noexcept;
    StagedFile& operator=(StagedFile&&) = delete;
    StagedFile(const StagedFile&) = delete;

    // ArtifactRefused(413) beyond the quota, 507 when the disk is full.
    void write(std::string_view data);
    std::uint64_t size() const { return size_; }
    void commit();

  private:
    std::filesystem::path tmp_, final_;
    std::shared_ptr<ArtifactQuota> quota_;
    base::UniqueFd fd_;
    std::uint64_t size_ = 0;
    std::uint64_t claimed_ = 0;  // bytes counted in the quota (those of a failed write too)
    bool done_ = false;
};

class ZipArtifactStore {
  public:
    static constexpr std::size_t kMaxBlocks = 50000;  // Azure's limit per blob

    // Creates DIR/v4 if needed; throws base::Error when it cannot. Every byte staged or kept
    // counts against `quota` (null: a quota of its own with the default budget).
    explicit ZipArtifactStore(std::filesystem::path dir, std::shared_ptr<ArtifactQuota> quota = {});
    ~ZipArtifactStore();
    ZipArtifactStore(const ZipArtifactStore&) = delete;
    ZipArtifactStore& operator=(const ZipArtifactStore&) = delete;

    // Starts artifact `name` of `run` (a pending upload of an earlier id is dropped) and returns
    // its id. ArtifactRefused: 400 bad name, 409 when a finalized artifact has the name.
    std::uint64_t create(const std::string& run, const std::string& name, const std::string& job);
    // Files for one block (`block_id` as the client sent it) or the whole blob of pending
    // artifact `id`. ArtifactRefused(404) when `id` is not the pending upload of that name.
    StagedFile stageBlock(const std::string& run, const std::string& name, std::uint64_t id,
                          const std::string& block_id);
    StagedFile stageBlob(const std::string& run, const std::string& name, std::uint64_t id);
    // Concatenates the staged blocks in `block_ids` order into the blob and drops the blocks;
    // ArtifactRefused(400) when one was never staged. Returns the blob's size.
    std::uint64_t commitBlocks(const std::string& run, const std::string& name, std::uint64_t id,
                               const std::vector<std::string>& block_ids);
    // Checks the blob is there and `size` long, then makes the artifact visible.
    // ArtifactRefused: 404 no pending upload, 409 nothing uploaded, 400 size mismatch.
    std::uint64_t finalize(const std::string& run, const std::string& name, std::uint64_t size,
                           const std::string& digest);
    // Finalized artifacts of `run`, by id, optionally only `name` / only `id`.
    std::vector<ZipArtifact> list(const std::string& run, std::optional<std::string> name = {},
                                  std::optional<std::uint64_t> id = {}) const;
    // The zip of a finalized artifact; ArtifactRefused(404) when there is none.
    OpenedFile open(const std::string& run, const std::string& name, std::uint64_t id) const;
    // Deletes a finalized artifact and returns its id; ArtifactRefused(404) when there is none.
    std::uint64_t remove(const std::string& run, const std::string& name);
    // Removes what pending upload `id` staged, to free the disk and the quota after a write they
    // refused; the upload then fails with 409 until it is created again.
    void dropUpload(const std::string& run, const std::string& name, std::uint64_t id,
                    const std::string& why);
    // Whether `name` is pending or finalized in `run`.
    bool has(const std::string& run, const std::string& name) const;

  private:
    struct Entry {
        std::uint64_t id = 0;
        std::string job;
        bool finalized = false;
        std::string dropped;  // why the upload was dropped, or empty
        ZipArtifact info;
    };
    std::filesystem::path runDir(const std::string& run) const { return root_ / run; }
    std::filesystem::path stagingDir(const std::string& run, std::uint64_t id) const;
    std::filesystem::path zipPath(const std::string& run, const std::string& name) const;
    // Under mu_: the entry of `name`, or null.
    const Entry* find(const std::string& run, const std::string& name) const;
    Entry* find(const std::string& run, const std::string& name) {
        return const_cast<Entry*>(std::as_const(*this).find(run, name));
    }
    // The pending entry `id` of `name`, under mu_; throws ArtifactRefused(404).
    Entry& pending(const std::string& run, const std::string& name, std::uint64_t id);

    // Removes `dir` and gives the bytes of the files in it back to the quota.
    void removeStaged(const std::filesystem::path& dir);

    std::filesystem::path root_;  // DIR/v4
    std::shared_ptr<ArtifactQuota> quota_;
    mutable std::mutex mu_;
    std::uint64_t next_id_ = 1;
    std::uint64_t next_tmp_ = 0;  // unique temporary file names
    std::map<std::string, std::map<std::string, Entry>> runs_;
};

}  // namespace nixjail::runner::artifact_server
