// ConsoleReporter: job and step progress for people, one prefixed line at a time; colour on a TTY.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>

#include "runner/engine/workflow_runner.h"

namespace nixjail::runner::engine {

class ConsoleReporter : public RunReporter {
public:
    // `debug`: show ::debug:: lines and the runner's debug notes (Actions' ACTIONS_STEP_DEBUG).
    ConsoleReporter(std::FILE* out, bool colour, bool debug = false) : out_(out), colour_(colour), debug_(debug) {}
    std::unique_ptr<JobObserver> jobStarted(const JobInstance& instance) override;
    void jobFinished(const JobInstance& instance, const JobOutcome& outcome) override;

    // Writes one line under the lock; `style` is an ANSI SGR code or empty.
    void print(const std::string& prefix, const std::string& text, const char* style = "");
    bool colour() const { return colour_; }
    bool debug() const { return debug_; }

private:
    std::FILE* out_;
    bool colour_;
    bool debug_;
    std::mutex mu_;
};

// "1.2s", "340ms", "2m03s"
std::string formatDuration(std::chrono::milliseconds d);

// The table of job results printed at the end of a run.
std::string resultsTable(const std::vector<JobReport>& jobs, bool colour);

}  // namespace nixjail::runner::engine
