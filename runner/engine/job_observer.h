// JobObserver: what a running job tells the outside world (the terminal in `exec`, the forge in the
// daemon). Every text it receives has already been masked.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace nixjail::runner::engine {

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
    Result outcome = Result::kSkipped;     // before continue-on-error
    Result conclusion = Result::kSkipped;  // after continue-on-error
    std::chrono::milliseconds duration{0};
    int exit_code = -1;
    std::string error;  // why it failed, when the runner knows (timeout, bad expression, ...)
    std::map<std::string, std::string> outputs;
};

class JobObserver {
public:
    virtual ~JobObserver() = default;
    virtual void stepStarted(const StepRecord& step) = 0;
    virtual void line(const LogLine& line) = 0;
    virtual void stepFinished(const StepRecord& step) = 0;
};

}  // namespace nixjail::runner::engine
