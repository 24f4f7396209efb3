// JobStore: the runner's record of jobs, steps and network decisions, and the stats drawn from it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/store/database.h"

namespace nixjail::runner::store {

enum class Phase {
    ClosureResolution,
    RootPrepare,
    WorkspacePrepare,
    ProxySetup,
    Execution,
    Cleanup,
    ServicesStart  // from the first service's start to the last one ready
};
inline constexpr Phase kAllPhases[] = {Phase::ClosureResolution, Phase::RootPrepare,
                                       Phase::WorkspacePrepare,  Phase::ProxySetup,
                                       Phase::Execution,         Phase::Cleanup,
                                       Phase::ServicesStart};
// "closure_resolution", "root_prepare", ...: the column prefix and the metrics label.
std::string_view phaseName(Phase phase);

enum class CacheKind { Workspace, Root, Closure };

struct JobStart {
    int64_t forge_task_id = 0;
    std::string repo;
    std::string workflow;
    std::string job;
    std::string matrix;  // e.g. JSON of the combination
    std::string labels;  // comma-separated runs-on labels
    int64_t started_at_ms = 0;
};

// A job's use of the runner's actions/cache server.
struct ActionsCacheUsage {
    int64_t hits = 0;
    int64_t misses = 0;
    int64_t bytes_saved = 0;
    int64_t bytes_restored = 0;
};

struct JobFinish {
    std::string status;  // "success", "failure", "cancelled", "skipped"
    int64_t ended_at_ms = 0;
    std::string exit_reason;
    std::optional<int64_t> closure_size_bytes;
    std::optional<int64_t> closure_path_count;
    std::optional<int64_t> peak_memory_bytes;
    std::optional<double> cpu_seconds;
    std::optional<ActionsCacheUsage> actions_cache;  // none: the job had no cache server
};

struct StepRecord {
    int64_t index = 0;
    std::string name;
    std::string status;
    std::optional<int64_t> started_at_ms;
    std::optional<int64_t> ended_at_ms;
    std::optional<int64_t> exit_code;
    std::optional<int64_t> duration_ms;
    std::optional<int64_t> peak_memory_bytes;
    bool oom = false;
    bool timed_out = false;
    std::optional<double> cpu_seconds;
};

struct NetworkDecisionRecord {
    int64_t time_ms = 0;
    std::string method;
    std::string host;
    std::string path;
    std::string rule;
    std::string decision;  // "allow", "deny", "audit"
    int64_t bytes = 0;
    std::string credential_name;  // every credential injected, comma-separated
};

// One promise of the jail's self-check (runner/engine/jail_self_check.h).
struct JailCheckRecord {
    std::string name;
    bool passed = false;
    std::string detail;
};

struct JobRow {
    int64_t id = 0;
    JobStart start;
    std::string status;
    std::optional<int64_t> ended_at_ms;
    std::map<std::string, int64_t> phase_ms;  // only phases recorded
    std::optional<bool> workspace_cache_hit;
    std::optional<bool> root_cache_hit;
    std::optional<bool> closure_cache_hit;
    std::optional<int64_t> closure_size_bytes;
    std::optional<int64_t> closure_path_count;
    std::optional<int64_t> peak_memory_bytes;
    std::optional<double> cpu_seconds;
    std::optional<ActionsCacheUsage> actions_cache;
    std::string exit_reason;
};

struct PhaseStats {
    std::string phase;
    int64_t count = 0;
    int64_t p50_ms = 0;
    int64_t p95_ms = 0;
};

struct CacheStats {
    int64_t hits = 0;
    int64_t misses = 0;
    double hitRate() const { return hits + misses ? double(hits) / double(hits + misses) : 0.0; }
};

struct Stats {
    std::map<std::string, int64_t> jobs_by_status;
    std::vector<PhaseStats> phases;  // in pipeline order, phases without data left out
    CacheStats workspace;
    CacheStats root;
};

// Thread-safe: the daemon records from several job threads; calls are serialised on one
// connection (SQLite writes are serialised anyway).
class JobStore {
  public:
    // Opens the database and brings its schema up to date with the embedded migrations.
    explicit JobStore(const std::filesystem::path& path);

    // Returns the row id that the other calls take.
    int64_t recordJobStart(const JobStart& start);
    void recordPhase(int64_t job_id, Phase phase, int64_t ms);
    void recordCacheResult(int64_t job_id, CacheKind kind, bool hit);
    void finishJob(int64_t job_id, const JobFinish& finish);
    // Inserts or replaces the step with this index.
    void recordStep(int64_t job_id, const StepRecord& step);
    void recordNetworkDecision(int64_t job_id, const NetworkDecisionRecord& decision);
    void recordJailChecks(int64_t job_id, const std::vector<JailCheckRecord>& checks);
    // What a replay of the job needs (runner/daemon/replay_record.h), replacing what was there.
    // The caller guarantees it holds no secret.
    void recordReplay(int64_t job_id, const std::string& record);

    // Jobs still 'running' from a previous daemon that died: marked failed with `reason`.
    // Returns their forge task ids, so the daemon can tell the forge.
    std::vector<int64_t> failInterruptedJobs(int64_t now_ms, const std::string& reason);
    // The daemon's own events (kind e.g. "startup_sweep"), newest first from runnerEvents().
    void recordEvent(int64_t time_ms, const std::string& kind, const std::string& detail);
    struct Event {
        int64_t time_ms = 0;
        std::string kind;
        std::string detail;
    };
    std::vector<Event> runnerEvents(size_t limit);

    // Newest first. failed_only keeps jobs whose status is "failure".
    std::vector<JobRow> recentJobs(size_t limit, bool failed_only = false);
    // nullopt: no job has this id.
    std::optional<JobRow> job(int64_t job_id);
    // The job's replay record; nullopt when it has none (recorded before migration 007, or the
    // job is unknown).
    std::optional<std::string> replayRecord(int64_t job_id);
    std::vector<StepRecord> steps(int64_t job_id);
    std::vector<NetworkDecisionRecord> networkDecisions(int64_t job_id);
    std::vector<JailCheckRecord> jailChecks(int64_t job_id);
    Stats stats();

  private:
    std::mutex mutex_;
    Database db_;
};

}  // namespace nixjail::runner::store
