// ArtifactStore: checked names, files written at offsets with pwrite, opened without following
// symlinks.
#include "runner/artifact_server/artifact_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "runner/artifact_server/item_path.h"

namespace nixjail::runner::artifact_server {

namespace fs = std::filesystem;

ArtifactStore::ArtifactStore(fs::path dir, std::shared_ptr<ArtifactQuota> quota)
    : dir_(std::move(dir)), quota_(quota ? std::move(quota) : std::make_shared<ArtifactQuota>()) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec || !fs::is_directory(dir_)) {
        throw base::Error("cannot create the artifact directory " + dir_.string() + ": " +
                          ec.message() + "; choose another with --artifact-server-path");
    }
}

void ArtifactStore::checkRun(const std::string& run) {
    if (!isSafeName(run)) throw ArtifactRefused(400, "bad run id '" + run + "'");
}

std::pair<std::string, std::string> ArtifactStore::split(const std::string& item_path) {
    auto clean = cleanItemPath(item_path);
    const auto slash = clean ? clean->find('/') : std::string::npos;
    if (slash == std::string::npos) {
        throw ArtifactRefused(400, "bad itemPath '" + item_path +
                                       "': want <artifact name>/<relative file path> without '..', "
                                       "'.', empty parts, backslashes or control characters");
    }
    return {clean->substr(0, slash), clean->substr(slash + 1)};
}

const ArtifactStore::Artifact* ArtifactStore::find(const std::string& run,
                                                   const std::string& name) const {
    auto r = runs_.find(run);
    if (r == runs_.end()) return nullptr;
    auto a = r->second.find(name);
    return a == r->second.end() ? nullptr : &a->second;
}

std::uint64_t ArtifactStore::create(const std::string& run, const std::string& name) {
    checkRun(run);
    if (!isSafeName(name)) {
        throw ArtifactRefused(400, "bad artifact name '" + name +
                                       "': one path component, no '..', backslashes or control "
                                       "characters");
    }
    std::error_code ec;
    fs::create_directories(dir_ / run / name, ec);
    if (ec) {
        throw base::Error("cannot create artifact directory " + (dir_ / run / name).string() +
                          ": " + ec.message());
    }
    std::lock_guard lock(mu_);
    auto& a = runs_[run][name];
    if (a.id == 0) a.id = next_id_++;
    a.finalized = false;  // uploading again with the same name adds files, as GitHub's v3 did
    return a.id;
}

void ArtifactStore::write(const std::string& run, const std::string& item_path,
                          std::uint64_t offset, std::string_view data, bool gzip,
                          std::optional<std::uint64_t> total) {
    checkRun(run);
    auto [name, rel] = split(item_path);
    const fs::path file = dir_ / run / name / rel;
    {
        std::lock_guard lock(mu_);
        Artifact* a = find(run, name);
        if (!a) {
            throw ArtifactRefused(404, "artifact '" + name + "' of run " + run +
                                           " was not created (POST .../artifacts first)");
        }
        if (a->finalized)
            throw ArtifactRefused(409, "artifact '" + name + "' is already finalized");
        if (offset == 0)
            a->gzip[rel] = gzip;
        else
            a->gzip.try_emplace(rel, gzip);
        // The quota counts the file up to its last byte, holes included: a chunk at offset 1 TiB
        // counts as 1 TiB. Counted before writing, so a refused chunk writes nothing.
        auto& counted = a->counted[rel];
        if (total && counted > *total) {
            quota_->release(counted - *total);
            counted = *total;
        }
        const std::uint64_t end = offset + data.size();
        if (end < offset) throw ArtifactRefused(400, "chunk of '" + item_path + "' ends past 2^64");
        if (end > counted) {
            try {
                quota_->claim(end - counted, "artifact file '" + item_path + "'");
            } catch (const ArtifactRefused&) {
                discardLocked(*a, rel, file);
                throw;
            }
            counted = end;
        }
    }
    base::UniqueFd fd = openForWrite(file, total);
    try {
        writeAt(fd.get(), file, offset, data);
    } catch (const ArtifactRefused& e) {
        std::lock_guard lock(mu_);
        if (Artifact* a = find(run, name)) {
            if (e.status() == 507)
                discardLocked(*a, rel, file);
            else
                markFailedLocked(*a, rel, offset);
        }
        throw;
    } catch (...) {
        // Part of the chunk may be on disk: the file must not pass for complete.
        std::lock_guard lock(mu_);
        if (Artifact* a = find(run, name)) markFailedLocked(*a, rel, offset);
        throw;
    }
    if (data.empty()) return;
    std::lock_guard lock(mu_);
    Artifact* a = find(run, name);
    if (!a) return;
    // The chunk whose write failed came again and is stored now.
    auto failed = a->failed_at.find(rel);
    if (failed != a->failed_at.end() && failed->second >= offset &&
        failed->second < offset + data.size()) {
        a->failed_at.erase(failed);
    }
}

void ArtifactStore::discardLocked(Artifact& a, const std::string& rel, const fs::path& file) {
    if (::unlink(file.c_str()) == 0 || errno == ENOENT) {
        quota_->release(std::exchange(a.counted[rel], 0));
        a.failed_at[rel] = 0;
    } else {
        a.failed_at[rel] = 0;  // still there, still counted, and never published
    }
}

void ArtifactStore::markFailedLocked(Artifact& a, const std::string& rel, std::uint64_t offset) {
    auto [it, added] = a.failed_at.try_emplace(rel, offset);
    if (!added) it->second = std::min(it->second, offset);
}

base::UniqueFd ArtifactStore::openForWrite(const fs::path& file,
                                           std::optional<std::uint64_t> total) {
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    if (ec == std::errc::no_space_on_device)
        throwWriteFailure(ENOSPC, "cannot create directory " + file.parent_path().string());
    if (ec)
        throw base::Error("cannot create directory " + file.parent_path().string() + ": " +
                          ec.message());
    base::UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd) throwWriteFailure(errno, "cannot open artifact file " + file.string());
    struct stat st {};
    if (total && ::fstat(fd.get(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) > *total &&
        ::ftruncate(fd.get(), static_cast<off_t>(*total)) != 0) {
        throw base::SysError("cannot truncate artifact file " + file.string());
    }
    return fd;
}

void ArtifactStore::writeAt(int fd, const fs::path& file, std::uint64_t offset,
                            std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            throwWriteFailure(n < 0 ? errno : ENOSPC,
                              "cannot write artifact file " + file.string());
        }
        data.remove_prefix(static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
    }
}

void ArtifactStore::finalize(const std::string& run, const std::string& name) {
    checkRun(run);
    std::lock_guard lock(mu_);
    Artifact* a = find(run, name);
    if (!a) throw ArtifactRefused(404, "no artifact '" + name + "' in run " + run);
    if (!a->failed_at.empty()) {
        const auto& [rel, at] = *a->failed_at.begin();
        throw ArtifactRefused(409, "artifact '" + name + "' is incomplete: storing '" + rel +
                                       "' failed at byte " + std::to_string(at) +
                                       " and that chunk was not uploaded again");
    }
    a->finalized = true;
}

bool ArtifactStore::has(const std::string& run, const std::string& name) const {
    std::lock_guard lock(mu_);
    return find(run, name) != nullptr;
}

std::vector<std::string> ArtifactStore::finalized(const std::string& run) const {
    checkRun(run);
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    auto r = runs_.find(run);
    if (r == runs_.end()) return out;
    for (const auto& [name, a] : r->second)
        if (a.finalized) out.push_back(name);
    return out;
}

std::vector<StoredFile> ArtifactStore::files(const std::string& run,
                                             const std::string& name) const {
    checkRun(run);
    std::map<std::string, bool> gzip;
    {
        std::lock_guard lock(mu_);
        const Artifact* a = isSafeName(name) ? find(run, name) : nullptr;
        if (!a || !a->finalized)
            throw ArtifactRefused(404, "no finalized artifact '" + name + "' in run " + run);
        gzip = a->gzip;
    }
    std::vector<StoredFile> out;
    const fs::path root = dir_ / run / name;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
        const std::string rel = it->path().lexically_relative(root).generic_string();
        auto g = gzip.find(rel);
        out.push_back({name + "/" + rel, it->file_size(ec), g != gzip.end() && g->second});
    }
    if (ec)
        throw base::Error("cannot list artifact directory " + root.string() + ": " + ec.message());
    std::sort(out.begin(), out.end(),
              [](const StoredFile& a, const StoredFile& b) { return a.path < b.path; });
    return out;
}

OpenedFile ArtifactStore::open(const std::string& run, const std::string& item_path) const {
    checkRun(run);
    auto [name, rel] = split(item_path);
    bool gzip = false;
    {
        std::lock_guard lock(mu_);
        const Artifact* a = find(run, name);
        if (!a || !a->finalized)
            throw ArtifactRefused(404, "no finalized artifact '" + name + "' in run " + run);
        auto g = a->gzip.find(rel);
        gzip = g != a->gzip.end() && g->second;
    }
    const fs::path file = dir_ / run / name / rel;
    base::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        throw ArtifactRefused(404, "no file '" + item_path + "' in run " + run);
    return OpenedFile{std::move(fd), static_cast<std::uint64_t>(st.st_size), gzip};
}

}  // namespace nixjail::runner::artifact_server
