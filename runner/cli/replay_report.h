// What `nixjail-runner replay` says about its run against the job's record: the job's steps side
// by side, the closure and nixpkgs compared, and the same as JSON for --json-summary.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runner/daemon/replay_record.h"
#include "runner/store/job_store.h"

namespace nixjail::runner::cli {

// One of the job's own steps (not a pre step, not a composite action's nested one), 0-based as
// the daemon records them.
struct StepResult {
    int64_t index = 0;
    std::string name;
    std::string status;  // success | failure | cancelled | skipped
};

struct ReplayComparison {
    struct Step {
        int64_t index = 0;
        std::string recorded_name, replay_name;
        std::string recorded, replay;  // status; empty: that run has no such step
    };
    std::vector<Step> steps;
    bool steps_same = true;
    std::optional<daemon::RootRecord> recorded_root, replay_root;
    bool closure_same = true;      // both made no root, or roots of the same closure
    bool nixpkgs_changed = false;  // the same nixpkgs, but its identity is not what it was
};

ReplayComparison compareReplay(const std::vector<store::StepRecord>& recorded,
                               const std::vector<StepResult>& replayed,
                               std::optional<daemon::RootRecord> recorded_root,
                               std::optional<daemon::RootRecord> replay_root);

// The steps side by side ("STEP  RECORDED  REPLAY") and a line on the closure.
std::string comparisonText(const ReplayComparison& c);

// What differs, one warning each, to print on stderr; none when the replay matched the record.
std::vector<std::string> comparisonWarnings(const ReplayComparison& c);

// The "replay" section of --json-summary.
nlohmann::json comparisonJson(const ReplayComparison& c);

}  // namespace nixjail::runner::cli
