// OutputProcessor: turns a step's raw output into masked log lines, acting on workflow commands
// (add-mask, group, annotations, stop-commands, the deprecated set-output/save-state, and the
// disabled set-env/add-path unless the step opted into them).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "runner/actions/command_file.h"
#include "runner/actions/job_observer.h"
#include "runner/actions/secret_masker.h"
#include "runner/actions/workflow_command.h"

namespace nixjail::runner::actions {

// Longer log lines are cut there, with a marker saying how much was left out.
constexpr std::size_t kMaxLogLineBytes = 8192;
// Output without a newline is held at most this long: beyond it the bytes held so far go out as a
// line of their own (masked, and never cut inside a secret), so a step that writes gigabytes
// without a newline cannot grow the runner's memory. Such a line is never a workflow command.
constexpr std::size_t kMaxPendingLineBytes = 1 << 20;
std::string capLine(std::string text);

class OutputProcessor {
public:
    // allowUnsecureCommands: ACTIONS_ALLOW_UNSECURE_COMMANDS is true in the step's environment,
    // which turns set-env and add-path back on; otherwise they fail the step.
    OutputProcessor(SecretMasker& masker, JobObserver& observer, bool allowUnsecureCommands = false)
        : masker_(masker), observer_(observer), allow_unsecure_(allowUnsecureCommands) {}
    // Bytes in any chunking; lines are acted on when complete.
    void feed(std::string_view chunk);
    // Flushes a last line without a newline.
    void finish();

    const KeyValues& legacyOutputs() const { return outputs_; }
    const KeyValues& legacyState() const { return state_; }
    const KeyValues& legacyEnv() const { return env_; }                // ::set-env, in order
    const std::vector<std::string>& legacyPath() const { return path_; }  // ::add-path, in order
    // The first command that could not be processed, which fails the step; empty when none.
    const std::string& commandError() const { return command_error_; }

private:
    void handleLine(std::string line);
    void emit(LineKind kind, const std::string& text);
    // set-env / add-path; throws base::Error with the runner's message when refused.
    void unsecureCommand(const WorkflowCommand& cmd);

    SecretMasker& masker_;
    JobObserver& observer_;
    std::string pending_;
    std::string stop_token_;  // non-empty while commands are stopped
    KeyValues outputs_;
    KeyValues state_;
    bool allow_unsecure_;
    KeyValues env_;
    std::vector<std::string> path_;
    std::string command_error_;
};

}  // namespace nixjail::runner::actions
