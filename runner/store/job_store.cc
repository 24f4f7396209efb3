// JobStore over the schema in migrations/.
#include "runner/store/job_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "runner/store/migrations.h"

namespace nixjail::runner::store {

std::string_view phaseName(Phase phase) {
    switch (phase) {
        case Phase::ClosureResolution:
            return "closure_resolution";
        case Phase::RootPrepare:
            return "root_prepare";
        case Phase::WorkspacePrepare:
            return "workspace_prepare";
        case Phase::ProxySetup:
            return "proxy_setup";
        case Phase::Execution:
            return "execution";
        case Phase::Cleanup:
            return "cleanup";
        case Phase::ServicesStart:
            return "services_start";
    }
    return "unknown";
}

namespace {
std::optional<bool> optionalBool(const Statement& st, int col) {
    if (st.isNull(col)) return std::nullopt;
    return st.columnInt(col) != 0;
}
std::optional<double> optionalDouble(const Statement& st, int col) {
    if (st.isNull(col)) return std::nullopt;
    return st.columnDouble(col);
}
// Nearest-rank percentile of sorted values.
int64_t percentile(const std::vector<int64_t>& sorted, double p) {
    if (sorted.empty()) return 0;
    auto rank = static_cast<size_t>(std::ceil(p * double(sorted.size())));
    return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}
}  // namespace

JobStore::JobStore(const std::filesystem::path& path) : db_(path) {
    applyMigrations(db_, embeddedMigrations());
}

int64_t JobStore::recordJobStart(const JobStart& s) {
    std::lock_guard lock(mutex_);
    auto st = db_.prepare(
        "INSERT INTO jobs (forge_task_id, repo, workflow, job, matrix, labels, status, "
        "started_at_ms)"
        " VALUES (?, ?, ?, ?, ?, ?, 'running', ?)");
    st.bind(1, s.forge_task_id).bind(2, s.repo).bind(3, s.workflow).bind(4, s.job);
    st.bind(5, s.matrix).bind(6, s.labels).bind(7, s.started_at_ms);
    st.run();
    return db_.lastInsertId();
}

void JobStore::recordPhase(int64_t job_id, Phase phase, int64_t ms) {
    std::lock_guard lock(mutex_);
    // The column name comes from the enum, never from input.
    auto st = db_.prepare(fmt::format("UPDATE jobs SET {}_ms = ? WHERE id = ?", phaseName(phase)));
    st.bind(1, ms).bind(2, job_id).run();
}

void JobStore::recordCacheResult(int64_t job_id, CacheKind kind, bool hit) {
    std::lock_guard lock(mutex_);
    const char* sql = kind == CacheKind::Workspace ? "UPDATE jobs SET workspace_cache_hit = ? WHERE id = ?"
                      : kind == CacheKind::Root    ? "UPDATE jobs SET root_cache_hit = ? WHERE id = ?"
                                                   : "UPDATE jobs SET closure_cache_hit = ? WHERE id = ?";
    auto st = db_.prepare(sql);
    st.bind(1, int64_t{hit ? 1 : 0}).bind(2, job_id).run();
}

void JobStore::finishJob(int64_t job_id, const JobFinish& f) {
    std::lock_guard lock(mutex_);
    auto st = db_.prepare(
        "UPDATE jobs SET status = ?, ended_at_ms = ?, exit_reason = ?,"
        " closure_size_bytes = COALESCE(?, closure_size_bytes),"
        " closure_path_count = COALESCE(?, closure_path_count),"
        " peak_memory_bytes = COALESCE(?, peak_memory_bytes),"
        " cpu_seconds = COALESCE(?, cpu_seconds),"
        " actions_cache_hits = COALESCE(?, actions_cache_hits),"
        " actions_cache_misses = COALESCE(?, actions_cache_misses),"
        " actions_cache_bytes_saved = COALESCE(?, actions_cache_bytes_saved),"
        " actions_cache_bytes_restored = COALESCE(?, actions_cache_bytes_restored) WHERE id = ?");
    st.bind(1, f.status).bind(2, f.ended_at_ms).bind(3, f.exit_reason);
    st.bind(4, f.closure_size_bytes).bind(5, f.closure_path_count).bind(6, f.peak_memory_bytes);
    st.bind(7, f.cpu_seconds);
    auto usage = [&](int64_t ActionsCacheUsage::*field) -> std::optional<int64_t> {
        if (!f.actions_cache) return std::nullopt;
        return (*f.actions_cache).*field;
    };
    st.bind(8, usage(&ActionsCacheUsage::hits)).bind(9, usage(&ActionsCacheUsage::misses));
    st.bind(10, usage(&ActionsCacheUsage::bytes_saved));
    st.bind(11, usage(&ActionsCacheUsage::bytes_restored)).bind(12, job_id);
    st.run();
}

void JobStore::recordStep(int64_t job_id, const StepRecord& s) {
    std::lock_guard lock(mutex_);
    auto st = db_.prepare(
        "INSERT OR REPLACE INTO steps (job_id, step_index, name, status, started_at_ms, "
        "ended_at_ms,"
        " exit_code, duration_ms, peak_memory_bytes, oom, timed_out, cpu_seconds)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, job_id).bind(2, s.index).bind(3, s.name).bind(4, s.status);
    st.bind(5, s.started_at_ms).bind(6, s.ended_at_ms).bind(7, s.exit_code).bind(8, s.duration_ms);
    st.bind(9, s.peak_memory_bytes).bind(10, int64_t{s.oom}).bind(11, int64_t{s.timed_out});
    st.bind(12, s.cpu_seconds);
    st.run();
}

void JobStore::recordNetworkDecision(int64_t job_id, const NetworkDecisionRecord& d) {
    std::lock_guard lock(mutex_);
    auto st = db_.prepare(
        "INSERT INTO network_decisions (job_id, time_ms, method, host, path, rule, decision, bytes,"
        " credential_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, job_id).bind(2, d.time_ms).bind(3, d.method).bind(4, d.host).bind(5, d.path);
    st.bind(6, d.rule).bind(7, d.decision).bind(8, d.bytes).bind(9, d.credential_name);
    st.run();
}

void JobStore::recordJailChecks(int64_t job_id, const std::vector<JailCheckRecord>& checks) {
    std::lock_guard lock(mutex_);
    for (const auto& c : checks) {
        auto st = db_.prepare("INSERT INTO jail_checks (job_id, name, passed, detail) VALUES (?, ?, ?, ?)");
        st.bind(1, job_id).bind(2, c.name).bind(3, static_cast<int64_t>(c.passed)).bind(4, c.detail);
        st.run();
    }
}

namespace {

// The columns jobRowOf reads, for "SELECT <these> FROM jobs ...".
std::string jobColumns() {
    std::string sql =
        "id, forge_task_id, repo, workflow, job, matrix, labels, status, started_at_ms,"
        " ended_at_ms, workspace_cache_hit, root_cache_hit, closure_size_bytes, closure_path_count,"
        " peak_memory_bytes, cpu_seconds, exit_reason, actions_cache_hits, actions_cache_misses,"
        " actions_cache_bytes_saved, actions_cache_bytes_restored, closure_cache_hit";
    for (Phase p : kAllPhases) sql += fmt::format(", {}_ms", phaseName(p));
    return sql;
}

JobRow jobRowOf(const Statement& st) {
    JobRow r;
    r.id = st.columnInt(0);
    r.start = {st.columnInt(1),  st.columnText(2), st.columnText(3), st.columnText(4),
               st.columnText(5), st.columnText(6), st.columnInt(8)};
    r.status = st.columnText(7);
    r.ended_at_ms = st.columnOptionalInt(9);
    r.workspace_cache_hit = optionalBool(st, 10);
    r.root_cache_hit = optionalBool(st, 11);
    r.closure_size_bytes = st.columnOptionalInt(12);
    r.closure_path_count = st.columnOptionalInt(13);
    r.peak_memory_bytes = st.columnOptionalInt(14);
    r.cpu_seconds = optionalDouble(st, 15);
    r.exit_reason = st.columnText(16);
    if (!st.isNull(17)) {
        r.actions_cache = ActionsCacheUsage{st.columnInt(17), st.columnInt(18), st.columnInt(19),
                                            st.columnInt(20)};
    }
    r.closure_cache_hit = optionalBool(st, 21);
    int col = 22;
    for (Phase p : kAllPhases) {
        if (!st.isNull(col)) r.phase_ms[std::string(phaseName(p))] = st.columnInt(col);
        ++col;
    }
    return r;
}

}  // namespace

std::vector<JobRow> JobStore::recentJobs(size_t limit, bool failed_only) {
    std::lock_guard lock(mutex_);
    std::string sql = "SELECT " + jobColumns() + " FROM jobs";
    if (failed_only) sql += " WHERE status = 'failure'";
    sql += " ORDER BY started_at_ms DESC, id DESC LIMIT ?";
    auto st = db_.prepare(sql);
    st.bind(1, static_cast<int64_t>(limit));
    std::vector<JobRow> out;
    while (st.step()) out.push_back(jobRowOf(st));
    return out;
}

std::optional<JobRow> JobStore::job(int64_t job_id) {
    std::lock_guard lock(mutex_);
    auto st = db_.prepare("SELECT " + jobColumns() + " FROM jobs WHERE id = ?");
    st.bind(1, job_id);
    if (!st.step()) return std::nullopt;
    return jobRowOf(st);
}

void JobStore::recordReplay(int64_t job_id, const std::string& record) {
    std::lock_guard lock(mutex_);
    auto st = db_.prepare("UPDATE jobs SET replay = ? WHERE id = ?");
    st.bind(1, record).bind(2, job_id).run();
}

std::optional<std::string> JobStore::replayRecord(int64_t job_id) {
    std::lock_guard lock(mutex_);
    auto st = db_.prepare("SELECT replay FROM jobs WHERE id = ?");
    st.bind(1, job_id);
    if (!st.step() || st.isNull(0)) return std::nullopt;
    return st.columnText(0);
}

std::vector<StepRecord> JobStore::steps(int64_t job_id) {
    std::lock_guard lock(mutex_);
    auto st = db_.prepare(
        "SELECT step_index, name, status, started_at_ms, ended_at_ms, exit_code, duration_ms,"
        " peak_memory_bytes, oom, timed_out, cpu_seconds FROM steps WHERE job_id = ?"
        " ORDER BY step_index");
    st.bind(1, job_id);
    std::vector<StepRecord> out;
    while (st.step()) {
        out.push_back({st.columnInt(0), st.columnText(1), st.columnText(2), st.columnOptionalInt(3),
                       st.columnOptionalInt(4), st.columnOptionalInt(5), st.columnOptionalInt(6),
                       st.columnOptionalInt(7), st.columnInt(8) != 0, st.columnInt(9) != 0,
                       optionalDouble(st, 10)});
    }
    return out;
}

std::vector<NetworkDecisionRecord> JobStore::networkDecisions(int64_t job_id) {
    std::lock_guard lock(mutex_);
    auto st = db_.prepare(
        "SELECT time_ms, method, host, path, rule, decision, bytes, credential_name"
        " FROM network_decisions WHERE job_id = ? ORDER BY id");
    st.bind(1, job_id);
    std::vector<NetworkDecisionRecord> out;
    while (st.step()) {
        out.push_back({st.columnInt(0), st.columnText(1), st.columnText(2), st.columnText(3),
                       st.columnText(4), st.columnText(5), st.columnInt(6), st.columnText(7)});
    }
    return out;
}

std::vector<JailCheckRecord> JobStore::jailChecks(int64_t job_id) {
    std::lock_guard lock(mutex_);
    auto st = db_.prepare("SELECT name, passed, detail FROM jail_checks WHERE job_id = ? ORDER BY id");
    st.bind(1, job_id);
    std::vector<JailCheckRecord> out;
    while (st.step()) out.push_back({st.columnText(0), st.columnInt(1) != 0, st.columnText(2)});
    return out;
}

Stats JobStore::stats() {
    std::lock_guard lock(mutex_);
    Stats s;
    {
        auto st = db_.prepare("SELECT status, COUNT(*) FROM jobs GROUP BY status");
        while (st.step()) s.jobs_by_status[st.columnText(0)] = st.columnInt(1);
    }
    for (Phase p : kAllPhases) {
        auto st = db_.prepare(fmt::format(
            "SELECT {0}_ms FROM jobs WHERE {0}_ms IS NOT NULL ORDER BY {0}_ms", phaseName(p)));
        std::vector<int64_t> values;
        while (st.step()) values.push_back(st.columnInt(0));
        if (values.empty()) continue;
        s.phases.push_back({std::string(phaseName(p)), static_cast<int64_t>(values.size()),
                            percentile(values, 0.50), percentile(values, 0.95)});
    }
    auto st = db_.prepare(
        "SELECT COALESCE(SUM(workspace_cache_hit = 1), 0), COALESCE(SUM(workspace_cache_hit = 0), "
        "0),"
        " COALESCE(SUM(root_cache_hit = 1), 0), COALESCE(SUM(root_cache_hit = 0), 0) FROM jobs");
    st.step();
    s.workspace = {st.columnInt(0), st.columnInt(1)};
    s.root = {st.columnInt(2), st.columnInt(3)};
    return s;
}

}  // namespace nixjail::runner::store

namespace nixjail::runner::store {

std::vector<int64_t> JobStore::failInterruptedJobs(int64_t now_ms, const std::string& reason) {
    std::lock_guard lock(mutex_);
    Transaction tx(db_);
    std::vector<int64_t> tasks;
    auto select = db_.prepare("SELECT forge_task_id FROM jobs WHERE status = 'running'");
    while (select.step()) tasks.push_back(select.columnInt(0));
    auto update = db_.prepare(
        "UPDATE jobs SET status = 'failure', ended_at_ms = ?, exit_reason = ? WHERE status = "
        "'running'");
    update.bind(1, now_ms).bind(2, reason).run();
    tx.commit();
    return tasks;
}

void JobStore::recordEvent(int64_t time_ms, const std::string& kind, const std::string& detail) {
    std::lock_guard lock(mutex_);
    auto st = db_.prepare("INSERT INTO runner_events (time_ms, kind, detail) VALUES (?, ?, ?)");
    st.bind(1, time_ms).bind(2, kind).bind(3, detail).run();
}

std::vector<JobStore::Event> JobStore::runnerEvents(size_t limit) {
    std::lock_guard lock(mutex_);
    auto st =
        db_.prepare("SELECT time_ms, kind, detail FROM runner_events ORDER BY id DESC LIMIT ?");
    st.bind(1, static_cast<int64_t>(limit));
    std::vector<Event> out;
    while (st.step()) out.push_back({st.columnInt(0), st.columnText(1), st.columnText(2)});
    return out;
}

}  // namespace nixjail::runner::store
