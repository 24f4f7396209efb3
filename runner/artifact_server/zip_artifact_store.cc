// ZipArtifactStore: staged blocks and blobs written under temporary names, committed by rename.
#include "runner/artifact_server/zip_artifact_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "runner/artifact_server/item_path.h"
#include "runner/base/error.h"

namespace nixjail::runner::artifact_server {

namespace fs = std::filesystem;

namespace {

std::string hexOf(std::string_view s) {
    std::string out;
    for (unsigned char c : s) out += fmt::format("{:02x}", c);
    return out;
}

void checkName(const std::string& run, const std::string& name) {
    if (!isSafeName(run)) throw ArtifactRefused(400, "bad run id '" + run + "'");
    if (!isSafeName(name) || name.size() > 250) {
        throw ArtifactRefused(400, "bad artifact name '" + name +
                                       "': one path component of at most 250 bytes, no '..', "
                                       "backslashes or control characters");
    }
}

// The bytes of the regular files under `dir` (0 when it is gone).
std::uint64_t bytesUnder(const fs::path& dir) {
    std::uint64_t total = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        struct stat st {};
        if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode))
            total += static_cast<std::uint64_t>(st.st_size);
    }
    return total;
}

}  // namespace

StagedFile::StagedFile(fs::path tmp, fs::path final_path, std::shared_ptr<ArtifactQuota> quota)
    : tmp_(std::move(tmp)), final_(std::move(final_path)), quota_(std::move(quota)) {
    std::error_code ec;
    fs::create_directories(final_.parent_path(), ec);
    fd_ = base::UniqueFd(
        ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd_) throw base::SysError("cannot create artifact upload file " + tmp_.string());
}

StagedFile::StagedFile(StagedFile&& o) noexcept
    : tmp_(std::move(o.tmp_)),
      final_(std::move(o.final_)),
      quota_(std::move(o.quota_)),
      fd_(std::move(o.fd_)),
      size_(o.size_),
      claimed_(o.claimed_),
      done_(o.done_) {
    o.done_ = true;
}

StagedFile::~StagedFile() {
    if (done_) return;
    std::error_code ec;
    fs::remove(tmp_, ec);  // a failed upload leaves nothing; a missing file is fine
    if (quota_) quota_->release(claimed_);
}

void StagedFile::write(std::string_view data) {
    quota_->claim(data.size(), "artifact upload file " + final_.filename().string());
    claimed_ += data.size();
    while (!data.empty()) {
        ssize_t n = ::write(fd_.get(), data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            throwWriteFailure(n < 0 ? errno : ENOSPC,
                              "cannot write artifact upload file " + tmp_.string());
        }
        data.remove_prefix(static_cast<std::size_t>(n));
        size_ += static_cast<std::uint64_t>(n);
    }
}

void StagedFile::commit() {
    // A write may have been cut short; the quota keeps what is on disk.
    quota_->release(claimed_ - size_);
    claimed_ = size_;
    fd_.reset();
    struct stat replaced {};
    const bool replaces = ::lstat(final_.c_str(), &replaced) == 0 && S_ISREG(replaced.st_mode);
    if (::rename(tmp_.c_str(), final_.c_str()) != 0)
        throw base::SysError("cannot move " + tmp_.string() + " to " + final_.string());
    done_ = true;
    if (replaces) quota_->release(static_cast<std::uint64_t>(replaced.st_size));
}

ZipArtifactStore::ZipArtifactStore(fs::path dir, std::shared_ptr<ArtifactQuota> quota)
    : root_(std::move(dir) / "v4"),
      quota_(quota ? std::move(quota) : std::make_shared<ArtifactQuota>()) {
    std::error_code ec;
    fs::create_directories(root_, ec);
    if (ec || !fs::is_directory(root_)) {
        throw base::Error("cannot create the artifact directory " + root_.string() + ": " +
                          ec.message() + "; choose another with --artifact-server-path");
    }
}

ZipArtifactStore::~ZipArtifactStore() {
    std::lock_guard lock(mu_);
    for (const auto& [run, names] : runs_) {
        std::error_code ec;
        fs::remove_all(runDir(run) / ".staging", ec);  // best effort: only our own uploads
    }
}

void ZipArtifactStore::removeStaged(const fs::path& dir) {
    const std::uint64_t bytes = bytesUnder(dir);
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (!ec) quota_->release(bytes);
}

fs::path ZipArtifactStore::stagingDir(const std::string& run, std::uint64_t id) const {
    return runDir(run) / ".staging" / std::to_string(id);
}

fs::path ZipArtifactStore::zipPath(const std::string& run, const std::string& name) const {
    return runDir(run) / (name + ".zip");
}

const ZipArtifactStore::Entry* ZipArtifactStore::find(const std::string& run,
                                                      const std::string& name) const {
    auto r = runs_.find(run);
    if (r == runs_.end()) return nullptr;
    auto a = r->second.find(name);
    return a == r->second.end() ? nullptr : &a->second;
}

ZipArtifactStore::Entry& ZipArtifactStore::pending(const std::string& run, const std::string& name,
                                                   std::uint64_t id) {
    Entry* e = find(run, name);
    if (!e || e->finalized || e->id != id) {
        throw ArtifactRefused(404, fmt::format("artifact '{}' of run {} has no upload {} in "
                                               "progress (finalized, replaced or never created)",
                                               name, run, id));
    }
    if (!e->dropped.empty()) throw ArtifactRefused(409, e->dropped);
    return *e;
}

void ZipArtifactStore::dropUpload(const std::string& run, const std::string& name, std::uint64_t id,
                                  const std::string& why) {
    std::lock_guard lock(mu_);
    Entry* e = find(run, name);
    if (!e || e->finalized || e->id != id) return;
    removeStaged(stagingDir(run, id));
    e->dropped = "the upload of artifact '" + name + "' was dropped (" + why +
                 "); upload it again from the start (CreateArtifact)";
}

std::uint64_t ZipArtifactStore::create(const std::string& run, const std::string& name,
                                       const std::string& job) {
    checkName(run, name);
    std::lock_guard lock(mu_);
    auto& entry = runs_[run][name];
    if (entry.finalized) {
        throw ArtifactRefused(409, "an artifact named '" + name + "' already exists in run " + run +
                                       "; delete it first or choose another name");
    }
    std::error_code ec;
    if (entry.id != 0) removeStaged(stagingDir(run, entry.id));  // a retried upload
    entry = Entry{.id = next_id_++, .job = job};
    // Ids start at 1 in every process: a crashed earlier run may have left this directory.
    fs::remove_all(stagingDir(run, entry.id), ec);
    fs::create_directories(stagingDir(run, entry.id) / "blocks", ec);
    if (ec) {
        throw base::Error("cannot create artifact staging directory " +
                          stagingDir(run, entry.id).string() + ": " + ec.message());
    }
    return entry.id;
}

StagedFile ZipArtifactStore::stageBlock(const std::string& run, const std::string& name,
                                        std::uint64_t id, const std::string& block_id) {
    checkName(run, name);
    if (block_id.empty() || block_id.size() > 100)
        throw ArtifactRefused(400, "bad block id '" + block_id + "': want 1 to 100 characters");
    std::lock_guard lock(mu_);
    pending(run, name, id);
    const fs::path blocks = stagingDir(run, id) / "blocks";
    return StagedFile(blocks / fmt::format(".tmp-{}", ++next_tmp_), blocks / hexOf(block_id),
                      quota_);
}

StagedFile ZipArtifactStore::stageBlob(const std::string& run, const std::string& name,
                                       std::uint64_t id) {
    checkName(run, name);
    std::lock_guard lock(mu_);
    pending(run, name, id);
    const fs::path dir = stagingDir(run, id);
    return StagedFile(dir / fmt::format(".tmp-{}", ++next_tmp_), dir / "blob", quota_);
}

std::uint64_t ZipArtifactStore::commitBlocks(const std::string& run, const std::string& name,
                                             std::uint64_t id,
                                             const std::vector<std::string>& block_ids) {
    if (block_ids.size() > kMaxBlocks) {
        throw ArtifactRefused(400, fmt::format("a block list of {} blocks is more than {}",
                                               block_ids.size(), kMaxBlocks));
    }
    StagedFile blob = stageBlob(run, name, id);
    const fs::path blocks = stagingDir(run, id) / "blocks";
    std::vector<char> buf(1 << 20);
    for (const auto& block : block_ids) {
        const fs::path file = blocks / hexOf(block);
        base::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        if (!fd) {
            throw ArtifactRefused(400, "block '" + block + "' of artifact '" + name +
                                           "' was never uploaded (PUT ...&comp=block first)");
        }
        for (ssize_t n; (n = ::read(fd.get(), buf.data(), buf.size())) != 0;) {
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw base::SysError("cannot read artifact block " + file.string());
            blob.write(std::string_view(buf.data(), static_cast<std::size_t>(n)));
        }
    }
    std::lock_guard lock(mu_);
    pending(run, name, id);  // still the same upload
    blob.commit();
    removeStaged(blocks);  // uncommitted blocks are discarded, as Azure does
    std::error_code ec;
    fs::create_directories(blocks, ec);
    return blob.size();
}

std::uint64_t ZipArtifactStore::finalize(const std::string& run, const std::string& name,
                                         std::uint64_t size, const std::string& digest) {
    checkName(run, name);
    std::lock_guard lock(mu_);
    Entry* found = find(run, name);
    if (!found || found->finalized)
        throw ArtifactRefused(404, "artifact '" + name + "' of run " + run +
                                       " has no upload to "
                                       "finalize (CreateArtifact first)");
    Entry& e = *found;
    const fs::path blob = stagingDir(run, e.id) / "blob";
    struct stat st {};
    if (::lstat(blob.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        throw ArtifactRefused(409, "artifact '" + name +
                                       "' has no uploaded content yet (PUT the "
                                       "blob to its signed_upload_url first)");
    }
    if (static_cast<std::uint64_t>(st.st_size) != size) {
        throw ArtifactRefused(400, fmt::format("artifact '{}' has {} bytes uploaded but "
                                               "FinalizeArtifact says size {}",
                                               name, st.st_size, size));
    }
    if (::rename(blob.c_str(), zipPath(run, name).c_str()) != 0)
        throw base::SysError("cannot move " + blob.string() + " to " + zipPath(run, name).string());
    removeStaged(stagingDir(run, e.id));  // blocks staged after the last block list
    e.finalized = true;
    e.info = ZipArtifact{.id = e.id,
                         .name = name,
                         .job = e.job,
                         .size = size,
                         .digest = digest,
                         .created_unix = std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count()};
    return e.id;
}

std::vector<ZipArtifact> ZipArtifactStore::list(const std::string& run,
                                                std::optional<std::string> name,
                                                std::optional<std::uint64_t> id) const {
    std::lock_guard lock(mu_);
    std::vector<ZipArtifact> out;
    auto r = runs_.find(run);
    if (r == runs_.end()) return out;
    for (const auto& [n, e] : r->second) {
        if (!e.finalized || (name && *name != n) || (id && *id != e.id)) continue;
        out.push_back(e.info);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return out;
}

OpenedFile ZipArtifactStore::open(const std::string& run, const std::string& name,
                                  std::uint64_t id) const {
    checkName(run, name);
    {
        std::lock_guard lock(mu_);
        const Entry* e = find(run, name);
        if (!e || !e->finalized || e->id != id)
            throw ArtifactRefused(404,
                                  fmt::format("no artifact '{}' (id {}) in run {}", name, id, run));
    }
    const fs::path file = zipPath(run, name);
    base::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        throw ArtifactRefused(404, "artifact file " + file.string() + " is gone");
    return OpenedFile{std::move(fd), static_cast<std::uint64_t>(st.st_size), false};
}

std::uint64_t ZipArtifactStore::remove(const std::string& run, const std::string& name) {
    checkName(run, name);
    std::lock_guard lock(mu_);
    const Entry* e = find(run, name);
    if (!e || !e->finalized)
        throw ArtifactRefused(404, "no artifact '" + name + "' in run " + run + " to delete");
    const std::uint64_t id = e->id;
    std::error_code ec;
    fs::remove(zipPath(run, name), ec);
    if (ec) throw base::Error("cannot delete " + zipPath(run, name).string() + ": " + ec.message());
    quota_->release(e->info.size);
    runs_[run].erase(name);
    return id;
}

bool ZipArtifactStore::has(const std::string& run, const std::string& name) const {
    std::lock_guard lock(mu_);
    return find(run, name) != nullptr;
}

}  // namespace nixjail::runner::artifact_server
