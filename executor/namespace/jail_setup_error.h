// JailSetupError: the jail could not be set up; carries the phase that failed and its errno.
#pragma once

#include <string>

#include "executor/namespace/setup_phase.h"
#include "runner/base/error.h"

namespace nixjail::executor::ns {

class JailSetupError : public base::Error {
  public:
    JailSetupError(SetupPhase phase, int err, const std::string& what)
        : base::Error(describeSetupFailure(phase, err, what)), phase_(phase), errno_(err) {}
    SetupPhase phase() const { return phase_; }
    int errnoValue() const { return errno_; }

  private:
    SetupPhase phase_;
    int errno_;
};

}  // namespace nixjail::executor::ns
