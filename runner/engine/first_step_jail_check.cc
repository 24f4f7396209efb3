// The jail's self-check run as the prelude of the job's first step.
#include "runner/engine/first_step_jail_check.h"

#include <chrono>

namespace nixjail::runner::engine {

FirstStepJailCheck::FirstStepJailCheck(std::unique_ptr<executor::Jail> inner, JailCheckRequest request,
                                       Judged judged)
    : inner_(std::move(inner)), request_(std::move(request)), judged_(std::move(judged)) {
    placeJailCheckProgram(request_);
}

FirstStepJailCheck::~FirstStepJailCheck() {
    if (state_ == State::kUnchecked) removeJailCheckProgram(request_);
}

executor::StepResult FirstStepJailCheck::run(const executor::StepInvocation& step) {
    std::unique_lock lock(mutex_);
    if (state_ == State::kPassed) {
        lock.unlock();
        return inner_->run(step);
    }
    if (state_ == State::kRefused) throw JailRefused(refusal_);
    return runChecked(step);
}

executor::StepResult FirstStepJailCheck::runChecked(const executor::StepInvocation& step) {
    const auto start = std::chrono::steady_clock::now();
    std::optional<JailCheckReport> report;
    executor::StepInvocation checked = step;
    checked.prelude = executor::StepPrelude{
        .argv = {(request_.temp_jail / jailCheckProgramName()).string()},
        .env = {"PATH=/nonexistent"},
        .cwd = request_.temp_jail,
        .timeout = std::chrono::seconds(30),
        .admit = [&](const executor::PreludeResult& ran) {
            // Gone before the step starts: it never sees the program.
            removeJailCheckProgram(request_);
            report = judgeJailCheck(ran.output, jailCheckEnd(ran), ran.applied_limits, request_);
            report->duration = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - start);
            // Said before the step's first line.
            if (judged_) judged_(*report);
            return report->passed() ? std::string() : report->failures();
        }};
    executor::StepResult result;
    try {
        result = inner_->run(checked);
    } catch (...) {
        removeJailCheckProgram(request_);
        throw;
    }
    removeJailCheckProgram(request_);
    if (!report) {
        // The jail could not start (or was cancelled) before the check ran: judged as checkJail
        // judges a run that printed nothing.
        report = judgeJailCheck("", jailCheckEnd(result), std::nullopt, request_);
        // Without its limits seen, the cgroup promise is not kept either.
        report->checks.back() = {.name = "cgroup", .passed = false, .detail = "not checked: the check did not run"};
        report->duration = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - start);
        if (judged_) judged_(*report);
    }
    if (!report->passed()) {
        state_ = State::kRefused;
        refusal_ = jailCheckRefusal(*report, request_.backend);
        throw JailRefused(refusal_);
    }
    state_ = State::kPassed;
    return result;
}

}  // namespace nixjail::runner::engine
