// Steps, phases, cache results and the job's end, into SQLite and the metrics.
#include "runner/daemon/job_recorder.h"

#include <algorithm>
#include <utility>

#include "proxy/policy.h"

namespace nixjail::runner::daemon {

int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

namespace {

std::string statusOf(actions::Result r) {
    switch (r) {
        case actions::Result::kSuccess:
            return "success";
        case actions::Result::kFailure:
            return "failure";
        case actions::Result::kCancelled:
            return "cancelled";
        case actions::Result::kSkipped:
            return "skipped";
    }
    return "failure";
}

std::optional<double> secondsOf(const std::optional<std::chrono::milliseconds>& ms) {
    if (!ms) return std::nullopt;
    return static_cast<double>(ms->count()) / 1000.0;
}

std::optional<int64_t> bytesOf(const std::optional<uint64_t>& bytes) {
    if (!bytes) return std::nullopt;
    return static_cast<int64_t>(*bytes);
}

}  // namespace

void JobRecorder::Usage::add(const actions::StepRecord& step) {
    if (step.cpu_time) cpu = cpu.value_or(std::chrono::milliseconds{0}) + *step.cpu_time;
    if (step.peak_memory_bytes)
        peak_memory_bytes = std::max(peak_memory_bytes.value_or(0), *step.peak_memory_bytes);
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
    if (auto index = nesting_.started()) {
        step_started_ms_[*index] = nowMs();
        step_usage_ = {};
        step_timed_out_ = false;
    }
}

void JobRecorder::stepFinished(const actions::StepRecord& step) {
    std::lock_guard lock(mutex_);
    // Nested steps' processes count for the job's step around them and for the job.
    step_usage_.add(step);
    job_usage_.add(step);
    auto index = nesting_.finished();
    if (!index) {
        step_timed_out_ = step_timed_out_ || step.timed_out;
        return;
    }
    const Usage used = std::exchange(step_usage_, {});
    store::StepRecord rec;
    rec.index = *index;
    rec.name = step.name;
    rec.status = statusOf(step.conclusion);
    rec.ended_at_ms = nowMs();
    auto it = step_started_ms_.find(*index);
    rec.started_at_ms = it == step_started_ms_.end() ? rec.ended_at_ms : it->second;
    if (step.exit_code >= 0) rec.exit_code = step.exit_code;
    rec.duration_ms = step.duration.count();
    rec.peak_memory_bytes = bytesOf(used.peak_memory_bytes);
    rec.cpu_seconds = secondsOf(used.cpu);
    rec.oom = step.error.find("out of memory") != std::string::npos;
    // Nested steps' timeouts count for the job's step around them, as their processes do.
    rec.timed_out = std::exchange(step_timed_out_, false) || step.timed_out;
    guarded("step", [&](int64_t id) { store_.recordStep(id, rec); });
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
        const bool root = phase.phase == actions::Phase::kRootPrepare;
        if (root || phase.phase == actions::Phase::kWorkspacePrepare) {
            metrics_.cacheResult(root ? "root" : "workspace", *phase.cache_hit);
            guarded("cache result", [&](int64_t id) {
                store_.recordCacheResult(
                    id, root ? store::CacheKind::Root : store::CacheKind::Workspace,
                    *phase.cache_hit);
            });
        }
    }
    if (auto f = phase.facts.find("closure_paths"); f != phase.facts.end())
        closure_paths_ = f->second;
    if (auto f = phase.facts.find("closure_bytes"); f != phase.facts.end())
        closure_bytes_ = f->second;
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
    rec.credential_name = r.credential.value_or("");
    guarded("network decision", [&](int64_t id) { store_.recordNetworkDecision(id, rec); });
}

void JobRecorder::actionsCache(const store::ActionsCacheUsage& usage) {
    std::lock_guard lock(mutex_);
    actions_cache_ = usage;
    metrics_.cacheResults("actions", usage.hits, usage.misses);
}

void JobRecorder::finish(const std::string& status, const std::string& exit_reason) {
    std::lock_guard lock(mutex_);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    metrics_.jobFinished(status, seconds);
    if (closure_paths_ || closure_bytes_)
        metrics_.closure(closure_paths_.value_or(0), closure_bytes_.value_or(0));
    store::JobFinish fin;
    fin.status = status;
    fin.ended_at_ms = nowMs();
    fin.exit_reason = exit_reason;
    fin.closure_path_count = closure_paths_;
    fin.closure_size_bytes = closure_bytes_;
    fin.peak_memory_bytes = bytesOf(job_usage_.peak_memory_bytes);
    fin.cpu_seconds = secondsOf(job_usage_.cpu);
    fin.actions_cache = actions_cache_;
    guarded("job's end", [&](int64_t id) { store_.finishJob(id, fin); });
}

}  // namespace nixjail::runner::daemon
