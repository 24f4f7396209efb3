// Prometheus text exposition (version 0.0.4) of the daemon's metrics.
#include "runner/daemon/metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace nixjail::runner::daemon {

namespace {

const std::vector<double> kJobBounds = {1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 10800};
const std::vector<double> kPhaseBounds = {0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1,
                                          2.5,   5,    10,   30,  60,   300};

void header(std::string& out, const char* name, const char* type, const char* help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
    ++counts_[static_cast<size_t>(it - bounds_.begin())];
    sum_ += value;
    ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
    const std::string sep = labels.empty() ? "" : ",";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
        cumulative += counts_[i];
        out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, bounds_[i],
                           cumulative);
    }
    out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, count_);
    const std::string braces = labels.empty() ? "" : "{" + labels + "}";
    out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, braces, sum_, name, braces, count_);
}

Metrics::Metrics() : job_duration_(kJobBounds) {
    for (const char* s : {"success", "failure", "cancelled", "skipped"}) jobs_total_[s] = 0;
    for (const char* d : {"allow", "deny"}) proxy_decisions_[d] = 0;
    for (const char* c : {"closure", "root", "workspace", "actions"}) {
        cache_hits_[c] = 0;
        cache_misses_[c] = 0;
    }
}

void Metrics::jobStarted() {
    std::lock_guard lock(mutex_);
    ++active_;
}

void Metrics::jobFinished(const std::string& status, double seconds) {
    std::lock_guard lock(mutex_);
    --active_;
    ++jobs_total_[status];
    job_duration_.observe(seconds);
}

void Metrics::phaseFinished(const std::string& phase, double seconds) {
    std::lock_guard lock(mutex_);
    phase_duration_.try_emplace(phase, kPhaseBounds).first->second.observe(seconds);
}

void Metrics::cacheResult(const std::string& cache_type, bool hit) {
    std::lock_guard lock(mutex_);
    ++(hit ? cache_hits_ : cache_misses_)[cache_type];
}

void Metrics::cacheResults(const std::string& cache_type, uint64_t hits, uint64_t misses) {
    std::lock_guard lock(mutex_);
    cache_hits_[cache_type] += hits;
    cache_misses_[cache_type] += misses;
}

void Metrics::closure(int64_t paths, int64_t bytes) {
    std::lock_guard lock(mutex_);
    closure_paths_ += static_cast<uint64_t>(std::max<int64_t>(paths, 0));
    closure_bytes_ += static_cast<uint64_t>(std::max<int64_t>(bytes, 0));
}

void Metrics::fetchError() {
    std::lock_guard lock(mutex_);
    ++fetch_errors_;
}

void Metrics::proxyDecision(const std::string& decision) {
    std::lock_guard lock(mutex_);
    ++proxy_decisions_[decision];
}

void Metrics::reportError() {
    std::lock_guard lock(mutex_);
    ++report_errors_;
}

std::string Metrics::render() const {
    std::lock_guard lock(mutex_);
    std::string out;
    header(out, "nixjail_jobs_total", "counter", "Jobs finished, by result.");
    for (const auto& [status, n] : jobs_total_) {
        out += fmt::format("nixjail_jobs_total{{status=\"{}\"}} {}\n", status, n);
    }
    header(out, "nixjail_active_jobs", "gauge", "Jobs running now.");
    out += fmt::format("nixjail_active_jobs {}\n", active_);
    header(out, "nixjail_job_duration_seconds", "histogram", "Time from task received to result.");
    job_duration_.render(out, "nixjail_job_duration_seconds", "");
    header(out, "nixjail_phase_duration_seconds", "histogram",
           "Time spent in each phase of a job.");
    for (const auto& [phase, h] : phase_duration_) {
        h.render(out, "nixjail_phase_duration_seconds", "phase=\"" + phase + "\"");
    }
    header(out, "nixjail_cache_hits_total", "counter",
           "Root and workspace preparations served from the cache; actions/cache lookups that "
           "found an entry (cache_type=\"actions\").");
    for (const auto& [c, n] : cache_hits_)
        out += fmt::format("nixjail_cache_hits_total{{cache_type=\"{}\"}} {}\n", c, n);
    header(out, "nixjail_cache_misses_total", "counter",
           "Root and workspace preparations that missed the cache; actions/cache lookups that "
           "found none.");
    for (const auto& [c, n] : cache_misses_) {
        out += fmt::format("nixjail_cache_misses_total{{cache_type=\"{}\"}} {}\n", c, n);
    }
    header(out, "nixjail_closure_paths_total", "counter",
           "Store paths in the closures of jobs' roots.");
    out += fmt::format("nixjail_closure_paths_total {}\n", closure_paths_);
    header(out, "nixjail_closure_size_bytes", "counter", "Bytes in the closures of jobs' roots.");
    out += fmt::format("nixjail_closure_size_bytes {}\n", closure_bytes_);
    header(out, "nixjail_fetch_errors_total", "counter", "FetchTask calls that failed.");
    out += fmt::format("nixjail_fetch_errors_total {}\n", fetch_errors_);
    header(out, "nixjail_report_errors_total", "counter",
           "UpdateTask/UpdateLog calls that failed and were retried.");
    out += fmt::format("nixjail_report_errors_total {}\n", report_errors_);
    header(out, "nixjail_proxy_decisions_total", "counter",
           "Requests the jobs' proxies decided, by decision.");
    for (const auto& [d, n] : proxy_decisions_) {
        out += fmt::format("nixjail_proxy_decisions_total{{decision=\"{}\"}} {}\n", d, n);
    }
    return out;
}

}  // namespace nixjail::runner::daemon
