// StepNesting: which observer events belong to the job's own steps. Composite actions report their
// nested steps between the parent's stepStarted and stepFinished; skipped steps only finish.
#pragma once

#include <cstdint>
#include <optional>

namespace nixjail::runner::daemon {

class StepNesting {
  public:
    // The 0-based index of the job's step that starts, or nullopt for a nested step.
    std::optional<int64_t> started() {
        return depth_++ == 0 ? std::optional<int64_t>(next_++) : std::nullopt;
    }
    // The 0-based index of the job's step that finished (also one that was skipped without
    // starting), or nullopt for a nested step.
    std::optional<int64_t> finished() {
        if (depth_ == 0) return next_++;  // skipped: never started
        return --depth_ == 0 ? std::optional<int64_t>(next_ - 1) : std::nullopt;
    }

  private:
    int depth_ = 0;
    int64_t next_ = 0;
};

}  // namespace nixjail::runner::daemon
