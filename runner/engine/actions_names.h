// Transitional, while runner/engine splits into runner/job (the job lifetime) and runner/actions
// (the step lifetime): engine code names the types already moved to runner/actions (the job
// observer and its records, the masker, command files, workflow commands, action manifests)
// without qualification. Goes with the last of engine.
#pragma once

#include "runner/actions/job_observer.h"
#include "runner/actions/secret_masker.h"

namespace nixjail::runner::engine {
using namespace nixjail::runner::actions;  // NOLINT(google-build-using-namespace)
}  // namespace nixjail::runner::engine
