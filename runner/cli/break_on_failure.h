// exec --break-on-failure: at a failed step, a shell in the job's jail on the user's terminal,
// then the question of what the job does next.
#pragma once

#include "runner/engine/kept_job.h"

namespace nixjail::runner::cli {

// The RunOptions::on_step_failure of exec --break-on-failure. Asks on stdin and writes to
// stderr; one job at a time when several fail at once. EOF on stdin answers abort.
engine::OnStepFailure breakOnFailure();

}  // namespace nixjail::runner::cli
