// JobObserver: what a running job tells the outside world (the terminal in `exec`, the forge in the
// daemon). Every text it receives has already been masked.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace nixjail::runner::actions {

enum class Result { kSuccess, kFailure, kCancelled, kSkipped };
const char* resultName(Result r);

enum class LineKind { kOutput, kGroupStart, kGroupEnd, kError, kWarning, kNotice, kDebug, kRunner };

struct LogLine {
    LineKind kind = LineKind::kOutput;
    std::string text;
};

struct StepRecord {
    size_t index = 0;  // 1-based, in the job's order (composite steps share their parent's index)
    std::string id;
    std::string name;
    bool pre = false;  // a JavaScript action's pre step, run at the job's start before its steps
    Result outcome = Result::kSkipped;     // before continue-on-error
    Result conclusion = Result::kSkipped;  // after continue-on-error
    std::chrono::milliseconds duration{0};
    int exit_code = -1;
    std::string error;  // why it failed, when the runner knows (timeout, bad expression, ...)
    bool timed_out = false;  // killed at its timeout-minutes (or the job's, whichever came first)
    std::map<std::string, std::string> outputs;
    // What the step's processes used, as the executor measured it; unset for a step that ran no
    // process (checkout, skipped) or whose executor could not measure. A step that ran several
    // processes (an action's pre/main/post) holds the CPU sum and the largest peak.
    std::optional<std::chrono::milliseconds> cpu_time;
    std::optional<uint64_t> peak_memory_bytes;
};

// The phases of a job, in order. Each is timed; they do not overlap, so their sum is the job's
// time minus scheduling: execution excludes the checkouts counted under workspace_prepare.
// Stored by number (store::Phase has the same order): new phases go at the end.
enum class Phase { kClosureResolution, kRootPrepare, kWorkspacePrepare, kProxySetup, kExecution, kCleanup, kServicesStart };
const char* phaseName(Phase p);  // "closure_resolution", ...

struct PhaseRecord {
    Phase phase = Phase::kExecution;
    std::chrono::milliseconds duration{0};
    std::optional<bool> cache_hit;  // root_prepare, workspace_prepare: served from the cache;
                                    // closure_resolution: answered without calling Nix
    std::map<std::string, int64_t> facts;   // e.g. closure_paths, checkouts
};

class JobObserver {
public:
    virtual ~JobObserver() = default;
    virtual void stepStarted(const StepRecord& step) = 0;
    virtual void line(const LogLine& line) = 0;
    virtual void stepFinished(const StepRecord& step) = 0;
    // Called once per phase the job went through, when it ends (phases the job did not need,
    // such as root_prepare under the host executor, are not reported).
    virtual void phaseFinished(const PhaseRecord&) {}
};

}  // namespace nixjail::runner::actions
