// The jail's self-check (jail_self_check.h) as the prelude of the job's first step: the check
// program runs in that step's own jail, under its limits, and the step starts only if every
// promise held. One jail start less per job than a run of its own (backends with
// BackendTraits::runs_preludes; the others run checkJail before the steps).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "executor/executor.h"
#include "runner/engine/jail_self_check.h"

namespace nixjail::runner::engine {

// A jail that broke a promise: thrown by the run that found it and by every later one. Not a
// base::Error, which a step catches as its own failure: this one ends the job.
class JailRefused : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Wraps the job's jail (and owns it). The first run() carries the check as its prelude; later
// runs pass straight through once it passed, and throw JailRefused once it failed.
class FirstStepJailCheck : public executor::Jail {
  public:
    // Told the report once, on the thread of the first run, before its step may start.
    using Judged = std::function<void(const JailCheckReport&)>;
    // Places the program in the job's temp directory now (throws base::Error when it is missing);
    // it is gone before the first step starts.
    FirstStepJailCheck(std::unique_ptr<executor::Jail> inner, JailCheckRequest request, Judged judged);
    ~FirstStepJailCheck() override;
    executor::StepResult run(const executor::StepInvocation& step) override;

  private:
    executor::StepResult runChecked(const executor::StepInvocation& step);

    std::unique_ptr<executor::Jail> inner_;
    JailCheckRequest request_;
    Judged judged_;
    std::mutex mutex_;  // held by the first run until its verdict
    enum class State { kUnchecked, kPassed, kRefused } state_ = State::kUnchecked;
    std::string refusal_;
};

}  // namespace nixjail::runner::engine
