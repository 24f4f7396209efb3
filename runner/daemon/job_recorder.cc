// Steps, phases, cache results and the job's end, into SQLite and the metrics.
#include "runner/daemon/job_recorder.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <utility>

#include "proxy/policy.h"

namespace nixjail::runner::daemon {

int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

JobRecorder::JobRecorder(store::JobStore& store, Metrics& metrics,
                         std::shared_ptr<spdlog::logger> log)
    : store_(store), metrics_(metrics), log_(std::move(log)) {}

template <class F>
void JobRecorder::guarded(const char* what, F&& f) {
    if (!job_id_) return;
    try {
        f(*job_id_);
    } catch (const std::exception& e) {
        log_->error("recording the {} in the job database failed, the record is incomplete: {}",
                    what, e.what());
    }
}

bool JobRecorder::start(const store::JobStart& start) {
    std::lock_guard lock(mutex_);
    metrics_.jobStarted();
    try {
        job_id_ = store_.recordJobStart(start);
        return true;
    } catch (const std::exception& e) {
        log_->error("recording the job in the job database failed, it runs unrecorded: {}",
                    e.what());
        return false;
    }
}

void JobRecorder::stepStarted(const actions::StepRecord&) {
    std::lock_guard lock(mutex_);
    steps_.started(nowMs());
}

void JobRecorder::stepFinished(const actions::StepRecord& step) {
    std::lock_guard lock(mutex_);
    if (auto rec = steps_.finished(step, nowMs()))
        guarded("step", [&](int64_t id) { store_.recordStep(id, *rec); });
}

void JobRecorder::phaseFinished(const actions::PhaseRecord& phase) {
    std::lock_guard lock(mutex_);
    const std::string name = actions::phaseName(phase.phase);
    metrics_.phaseFinished(name, static_cast<double>(phase.duration.count()) / 1000.0);
    // Both enums list the phases in pipeline order.
    const auto storePhase = static_cast<store::Phase>(static_cast<int>(phase.phase));
    guarded("phase",
            [&](int64_t id) { store_.recordPhase(id, storePhase, phase.duration.count()); });
    if (phase.cache_hit) {
        std::optional<std::pair<const char*, store::CacheKind>> cache;
        if (phase.phase == actions::Phase::kRootPrepare) cache = {"root", store::CacheKind::Root};
        if (phase.phase == actions::Phase::kWorkspacePrepare)
            cache = {"workspace", store::CacheKind::Workspace};
        if (phase.phase == actions::Phase::kClosureResolution)
            cache = {"closure", store::CacheKind::Closure};
        if (cache) {
            metrics_.cacheResult(cache->first, *phase.cache_hit);
            guarded("cache result", [&](int64_t id) {
                store_.recordCacheResult(id, cache->second, *phase.cache_hit);
            });
        }
    }
    if (auto f = phase.facts.find("closure_paths"); f != phase.facts.end())
        end_.closure_path_count = f->second;
    if (auto f = phase.facts.find("closure_bytes"); f != phase.facts.end())
        end_.closure_size_bytes = f->second;
}

void JobRecorder::networkDecision(const proxy::AuditRecord& r) {
    std::lock_guard lock(mutex_);
    // Audit-only mode lets a deny through; it is recorded as what the policy decided.
    const std::string decision = !r.enforced && r.decision == proxy::PolicyDecision::kDeny
                                     ? "audit"
                                     : proxy::toString(r.decision);
    metrics_.proxyDecision(decision);
    store::NetworkDecisionRecord rec;
    rec.time_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(r.time.time_since_epoch()).count();
    rec.method = r.method;
    rec.host = r.host;
    rec.path = r.path;
    rec.rule = r.rule;
    rec.decision = decision;
    rec.bytes = static_cast<int64_t>(r.bytes_up + r.bytes_down);
    rec.credential_name = fmt::format("{}", fmt::join(r.credentials, ","));  // names hold no comma
    guarded("network decision", [&](int64_t id) { store_.recordNetworkDecision(id, rec); });
}

void JobRecorder::jailChecks(const std::vector<store::JailCheckRecord>& checks) {
    std::lock_guard lock(mutex_);
    if (checks.empty()) return;
    guarded("jail self-check", [&](int64_t id) { store_.recordJailChecks(id, checks); });
}

void JobRecorder::replay(const std::string& record) {
    std::lock_guard lock(mutex_);
    guarded("replay record", [&](int64_t id) { store_.recordReplay(id, record); });
}

void JobRecorder::actionsCache(const store::ActionsCacheUsage& usage) {
    std::lock_guard lock(mutex_);
    end_.actions_cache = usage;
    metrics_.cacheResults("actions", usage.hits, usage.misses);
}

void JobRecorder::finish(const std::string& status, const std::string& exit_reason) {
    std::lock_guard lock(mutex_);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    metrics_.jobFinished(status, seconds);
    if (end_.closure_path_count || end_.closure_size_bytes) {
        metrics_.closure(end_.closure_path_count.value_or(0), end_.closure_size_bytes.value_or(0));
    }
    end_.status = status;
    end_.ended_at_ms = nowMs();
    end_.exit_reason = exit_reason;
    end_.peak_memory_bytes = steps_.jobUsage().peakMemory();
    end_.cpu_seconds = steps_.jobUsage().cpuSeconds();
    guarded("job's end", [&](int64_t id) { store_.finishJob(id, end_); });
}

}  // namespace nixjail::runner::daemon
