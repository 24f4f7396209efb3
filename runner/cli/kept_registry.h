// The kept jobs of one cache directory (<cache dir>/kept/<id>/): each entry's kept.json says what
// job it is and where its directory is; control.sock is its keeper (the exec process that stays
// behind). `kept` lists and removes them, `shell` finds them, the keeper writes them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace nixjail::runner::cli {

struct KeptEntry {
    std::string id;
    std::string job, name, workflow, result, step;
    std::size_t steps = 0;
    std::filesystem::path job_dir;
    pid_t keeper = 0;
    std::int64_t created = 0;         // unix seconds
    std::filesystem::path entry_dir;  // <cache dir>/kept/<id>
    std::filesystem::path socket() const { return entry_dir / "control.sock"; }
};

class KeptRegistry {
  public:
    explicit KeptRegistry(std::filesystem::path root) : root_(std::move(root)) {}
    // The registry of a cache directory (`cache_dir` empty: exec's default one).
    static KeptRegistry ofCacheDir(const std::string& cache_dir);
    const std::filesystem::path& root() const { return root_; }

    // Oldest first; an entry whose kept.json cannot be read is left out.
    std::vector<KeptEntry> list() const;
    // Throws base::Error naming the ids there are when `id` is not one of them.
    KeptEntry find(const std::string& id) const;
    // A new entry's directory (mode 0700) and kept.json; fills entry.id (job id and a random
    // suffix) and entry_dir.
    void create(KeptEntry& entry) const;
    // Removes the entry's own directory (not the job's).
    void forget(const KeptEntry& entry) const;

  private:
    std::filesystem::path root_;
};

// Bytes allocated under `dir`, without crossing into another filesystem (a job's overlay root
// counts by its upper layer, its disk-quota volume by its image).
std::uint64_t allocatedBytes(const std::filesystem::path& dir);

// Releases a kept job: its keeper releases the jail, network, root and directory; when the keeper
// is gone (killed, or the machine rebooted), what it left is removed here. Returns a line on
// what was done; throws base::Error when something could not be removed.
std::string releaseKept(const KeptRegistry& registry, const KeptEntry& entry);

}  // namespace nixjail::runner::cli
