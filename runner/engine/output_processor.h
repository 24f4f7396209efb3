// OutputProcessor: turns a step's raw output into masked log lines, acting on workflow commands
// (add-mask, group, annotations, stop-commands, the deprecated set-output/save-state).
#pragma once

#include <string>
#include <string_view>

#include "runner/engine/command_file.h"
#include "runner/engine/job_observer.h"
#include "runner/engine/secret_masker.h"

namespace nixjail::runner::engine {

class OutputProcessor {
public:
    OutputProcessor(SecretMasker& masker, JobObserver& observer) : masker_(masker), observer_(observer) {}
    // Bytes in any chunking; lines are acted on when complete.
    void feed(std::string_view chunk);
    // Flushes a last line without a newline.
    void finish();

    const KeyValues& legacyOutputs() const { return outputs_; }
    const KeyValues& legacyState() const { return state_; }

private:
    void handleLine(std::string line);
    void emit(LineKind kind, const std::string& text);

    SecretMasker& masker_;
    JobObserver& observer_;
    std::string pending_;
    std::string stop_token_;  // non-empty while commands are stopped
    KeyValues outputs_;
    KeyValues state_;
};

}  // namespace nixjail::runner::engine
