// One run's concurrency groups: who holds each group, who waits, who was displaced.
#include "runner/engine/concurrency_groups.h"

namespace nixjail::runner::engine {

bool ConcurrencyGroups::take(const std::string& group) {
    auto& g = groups_[group];
    if (g.busy) return false;
    g.busy = true;
    return true;
}

void ConcurrencyGroups::started(const std::string& group, std::stop_source* stop) {
    groups_[group].running = stop;
}

std::optional<ConcurrencyGroups::Waiting> ConcurrencyGroups::wait(Waiting w, bool cancel_in_progress) {
    auto& g = groups_[w.group];
    if (cancel_in_progress && g.running) {
        stopped_.insert(g.running);
        g.running->request_stop();
    }
    std::optional<Waiting> displaced = std::move(g.waiting);
    g.waiting = std::move(w);
    return displaced;
}

bool ConcurrencyGroups::release(const std::string& group, std::stop_source* stop) {
    const bool byGroup = stopped_.erase(stop) > 0;
    if (group.empty()) return byGroup;
    auto& g = groups_[group];
    g.running = nullptr;
    g.busy = false;
    if (g.waiting) {
        g.busy = true;
        ready_.push_back(std::move(*g.waiting));
        g.waiting.reset();
    }
    return byGroup;
}

std::optional<ConcurrencyGroups::Waiting> ConcurrencyGroups::nextReady() {
    if (ready_.empty()) return std::nullopt;
    Waiting next = std::move(ready_.front());
    ready_.erase(ready_.begin());
    return next;
}

std::string ConcurrencyGroups::lostMessage(const std::string& group) {
    return "Canceling since a higher priority waiting request for '" + group + "' exists";
}

}  // namespace nixjail::runner::engine
