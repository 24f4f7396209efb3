// A command in a jail attached to the user's terminal (`shell`, exec --break-on-failure).
#pragma once

#include <functional>

#include "executor/executor.h"

namespace nixjail::runner::cli {

// Calls `attached` with the stdio the command gets, and returns when it returns. When stdin is a
// terminal, that is a new pty (its slave end, as the command's controlling terminal) while this
// thread relays between the user's terminal, switched to raw mode, and the pty; the terminal's
// mode comes back afterwards. Otherwise the command gets this process's stdin, stdout and stderr.
// An exception from `attached` is rethrown once the terminal is restored.
void runAttached(const std::function<void(const executor::StepStdio& stdio)>& attached);

}  // namespace nixjail::runner::cli
