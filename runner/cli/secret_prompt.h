// Asking for a secret on the terminal, without echoing it (replay's missing secrets).
#pragma once

#include <string>

namespace nixjail::runner::cli {

// Writes `prompt` to stderr and reads one line from the terminal `fd` with echo off; the
// terminal's mode is restored however the read ends. Backspace erases. Throws base::Error when
// the user cancels (Ctrl-C, or Ctrl-D on an empty line) or `fd` cannot be read or set.
std::string askSecret(int fd, const std::string& prompt);

}  // namespace nixjail::runner::cli
