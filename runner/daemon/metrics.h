// Metrics: the daemon's counters and histograms, rendered in the Prometheus text format.
// Thread-safe; job threads update it, the metrics server renders it.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace nixjail::runner::daemon {

class Histogram {
  public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double value);
    // Appends the _bucket, _sum and _count lines; `labels` like `phase="execution"` or "".
    void render(std::string& out, const std::string& name, const std::string& labels) const;

  private:
    std::vector<double> bounds_;
    std::vector<uint64_t> counts_;  // per bound, not cumulative; last: +Inf
    double sum_ = 0;
    uint64_t count_ = 0;
};

class Metrics {
  public:
    Metrics();
    void jobStarted();
    // status: success | failure | cancelled | skipped
    void jobFinished(const std::string& status, double seconds);
    void phaseFinished(const std::string& phase, double seconds);
    void cacheResult(const std::string& cache_type, bool hit);
    void cacheResults(const std::string& cache_type, uint64_t hits, uint64_t misses);
    void closure(int64_t paths, int64_t bytes);
    void fetchError();
    // decision: allow | deny | audit (a deny let through in audit-only mode)
    void proxyDecision(const std::string& decision);
    void reportError();  // an UpdateTask/UpdateLog call that failed (and was retried)

    std::string render() const;

  private:
    mutable std::mutex mutex_;
    std::map<std::string, uint64_t> jobs_total_;
    int64_t active_ = 0;
    Histogram job_duration_;
    std::map<std::string, Histogram> phase_duration_;
    std::map<std::string, uint64_t> cache_hits_, cache_misses_;
    uint64_t closure_paths_ = 0, closure_bytes_ = 0;
    uint64_t fetch_errors_ = 0, report_errors_ = 0;
    std::map<std::string, uint64_t> proxy_decisions_;
};

}  // namespace nixjail::runner::daemon
