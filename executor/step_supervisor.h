// The parent side of a running step, shared by every backend: stream the child's merged output
// to on_output, end it at its deadline or on cancel (SIGTERM first, the whole tree after the
// grace period), drain what it left in the pipe, reap it. A backend supplies only its verbs:
// how to ask its step to stop, how to kill its tree, how to reap its child.
#pragma once

#include <chrono>
#include <functional>
#include <optional>

#include "executor/executor.h"

namespace nixjail::executor {

struct StepChild {
    int output_fd = -1;  // read end of the step's merged stdout/stderr pipe (blocking)
    int exit_fd = -1;    // readable once the child exited (its pidfd); -1: reap() is polled
    // Cancel: ask the step to stop (SIGTERM to its main process or its whole tree).
    std::function<void()> terminate;
    // Deadline, or the end of a cancel's grace period: kill the step's whole tree now.
    std::function<void()> kill;
    // Reaps the child if it has exited, waiting for it when `block`; returns its wait status.
    // Called once exit_fd is readable (or every few ms without one), and after kill() when the
    // loop fails. Where the tree does not end with the child, this is the place to kill it.
    std::function<std::optional<int>(bool block)> reap;
};

struct StepClock {
    std::chrono::steady_clock::time_point start;  // wall_time counts from here
    std::chrono::milliseconds limit;              // deadline: start + limit (timed_out, kill())
    std::chrono::milliseconds cancel_grace;       // from terminate() to kill() on cancel
};

// The step's time limit: the job's wall-time limit, or the step's timeout if that is shorter.
std::chrono::milliseconds stepTimeLimit(const Limits& limits, const StepInvocation& step);

// Runs the loop until the child is reaped and its output is drained (EOF, or nothing left in the
// pipe once the child is gone: a process that escaped the tree cannot hold the step open).
// Deadline and cancel exclude each other; whichever comes first decides. Fills exit_code and
// term_signal (from the child's wait status), timed_out, cancelled and wall_time; the backend adds
// its own accounting. Throws SysError if poll fails, after kill() and a blocking reap().
StepResult superviseStep(const StepInvocation& step, const StepChild& child,
                         const StepClock& clock);

}  // namespace nixjail::executor
