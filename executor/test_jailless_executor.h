// Test helper: the host executor under the traits of a jail with a network namespace of its own,
// i.e. a "jail" that keeps none of its promises. The runner's jail self-check must refuse it,
// whether it runs the check in a jail run of its own or (with `preludes`) as the first step's
// prelude.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "executor/executor.h"
#include "executor/host/host_executor.h"

namespace nixjail::executor::testing {

// Runs a step's prelude as a host process of its own right before the step, and asks its admit()
// as a backend that runs it in the step's jail would.
class PreludeRunningJail : public Jail {
  public:
    explicit PreludeRunningJail(std::unique_ptr<Jail> inner) : inner_(std::move(inner)) {}
    StepResult run(const StepInvocation& step) override {
        if (!step.prelude) return inner_->run(step);
        PreludeResult seen;
        StepInvocation prelude{.argv = step.prelude->argv,
                               .env = step.prelude->env,
                               .cwd = step.prelude->cwd,
                               .timeout = step.prelude->timeout,
                               .cancel = step.cancel};
        prelude.on_output = [&](std::string_view s) { seen.output.append(s); };
        const StepResult ran = inner_->run(prelude);
        seen.setup_error = ran.setup_error;
        seen.exit_code = ran.exit_code;
        seen.term_signal = ran.term_signal;
        seen.timed_out = ran.timed_out;
        seen.cancelled = ran.cancelled;
        const std::string refusal = step.prelude->admit(seen);
        if (!refusal.empty()) {
            StepResult refused;
            refused.setup_error = "prelude: " + refusal;
            return refused;
        }
        StepInvocation alone = step;
        alone.prelude.reset();
        return inner_->run(alone);
    }

  private:
    std::unique_ptr<Jail> inner_;
};

class JaillessExecutor : public Executor {
  public:
    explicit JaillessExecutor(bool preludes = false) : preludes_(preludes) {}
    std::string name() const override { return "weakened"; }
    BackendTraits traits() const override {
        return {.network = BackendTraits::Network::kOwnNamespace, .runs_preludes = preludes_};
    }
    std::unique_ptr<Jail> prepare(const JailSpec& spec) override {
        if (!preludes_) return host_.prepare(spec);
        return std::make_unique<PreludeRunningJail>(host_.prepare(spec));
    }

  private:
    HostExecutor host_;
    bool preludes_;
};

}  // namespace nixjail::executor::testing
