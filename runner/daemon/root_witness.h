// RootWitness: wraps a job's RootProvider to see what the job's root was made from: the engine's
// request (packages, labels, extras) and the root's origin (closure key, nixpkgs). The daemon puts
// it in the job's replay record; `replay` compares its own with the recorded one.
#pragma once

#include <mutex>
#include <optional>

#include "runner/daemon/replay_record.h"
#include "runner/engine/job_root.h"

namespace nixjail::runner::daemon {

class RootWitness {
  public:
    // The provider that `inner` is, telling this witness what it made; it refers to the witness,
    // which must outlive every job that uses it.
    engine::RootProvider wrap(engine::RootProvider inner);
    // The last root made; none yet, or the provider failed.
    std::optional<RootRecord> seen() const;

  private:
    mutable std::mutex mu_;
    std::optional<RootRecord> seen_;
};

}  // namespace nixjail::runner::daemon
