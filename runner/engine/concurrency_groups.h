// ConcurrencyGroups: the `concurrency:` groups of one run, as GitHub keeps them within a run: a
// group runs one instance at a time and holds at most one waiting; a newer waiting instance
// displaces the older, and cancel-in-progress stops the running one. Not thread-safe: the
// scheduler calls it under its lock.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "runner/engine/job_runner.h"

namespace nixjail::runner::engine {

class ConcurrencyGroups {
  public:
    struct Waiting {
        std::string job_id;
        JobInstance instance;
        std::string group;
    };

    // Claims `group` for an instance about to start; false when another instance holds it.
    bool take(const std::string& group);
    // `stop` is the started instance's that holds `group` (cancel-in-progress stops it).
    void started(const std::string& group, std::stop_source* stop);
    // Makes `w` the group's waiting instance; with cancel_in_progress the running one is stopped.
    // Returns the waiting instance it displaced, which the caller ends as cancelled.
    std::optional<Waiting> wait(Waiting w, bool cancel_in_progress);
    // Whether the instance of `stop` was stopped by its group (not by the run's cancel).
    bool stoppedByGroup(std::stop_source* stop) const { return stopped_.contains(stop); }
    // The instance of `stop` in `group` ended: the group passes to its waiting instance (see
    // nextReady). Returns whether its group had stopped it.
    bool release(const std::string& group, std::stop_source* stop);
    // A waiting instance whose group became free, to start now.
    std::optional<Waiting> nextReady();

    // GitHub's words for an instance its concurrency group cancelled.
    static std::string lostMessage(const std::string& group);

  private:
    struct Group {
        bool busy = false;
        std::stop_source* running = nullptr;  // the running instance's stop source
        std::optional<Waiting> waiting;
    };
    std::map<std::string, Group> groups_;
    std::vector<Waiting> ready_;             // waited and may run now, oldest first
    std::set<std::stop_source*> stopped_;    // running instances cancel-in-progress stopped
};

}  // namespace nixjail::runner::engine
