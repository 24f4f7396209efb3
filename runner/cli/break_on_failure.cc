// The pause at a failed step.
#include "runner/cli/break_on_failure.h"

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <memory>
#include <mutex>

#include "runner/cli/terminal_relay.h"

namespace nixjail::runner::cli {

namespace {

// One line from stdin, read unbuffered (the shell before it read the same fd).
std::optional<std::string> readAnswer() {
    std::string line;
    char c;
    for (;;) {
        const ssize_t n = ::read(STDIN_FILENO, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return line.empty() ? std::nullopt : std::optional(line);
        if (c == '\n' || c == '\r') return line;
        line.push_back(c);
    }
}

// The step's shell on this terminal; what keeps it from starting is said, not thrown.
void openShell(const engine::FailedStep& step) {
    try {
        runAttached([&](const executor::StepStdio& stdio) {
            const executor::StepResult r = step.shell({}, stdio);
            if (!r.setup_error.empty()) std::fprintf(stderr, "the shell could not start: %s\n", r.setup_error.c_str());
        });
    } catch (const std::exception& e) {
        std::fprintf(stderr, "the shell could not start: %s\n", e.what());
    }
}

engine::FailureChoice ask(const engine::FailedStep& step) {
    for (;;) {
        std::fprintf(stderr, "Step '%s' failed. [r]etry it, [c]ontinue (it stays failed), [i]gnore the failure, "
                             "[s]hell again, or [a]bort the job? ", step.name.c_str());
        std::fflush(stderr);
        const auto answer = readAnswer();
        if (!answer) {
            std::fputs("\nno answer (end of input): aborting the job\n", stderr);
            return engine::FailureChoice::kAbort;
        }
        const char first = answer->empty() ? '\0' : static_cast<char>(std::tolower(static_cast<unsigned char>((*answer)[0])));
        switch (first) {
            case 'r': return engine::FailureChoice::kRetry;
            case 'c': return engine::FailureChoice::kContinue;
            case 'i': return engine::FailureChoice::kIgnore;
            case 'a': return engine::FailureChoice::kAbort;
            case 's':
                openShell(step);
                continue;
            default: std::fputs("answer r, c, i, s or a\n", stderr);
        }
    }
}

}  // namespace

engine::OnStepFailure breakOnFailure() {
    auto mu = std::make_shared<std::mutex>();
    return [mu](const engine::FailedStep& step) {
        std::lock_guard lock(*mu);
        std::fprintf(stderr,
                     "\n--break-on-failure: step '%s' failed%s%s\nA shell in the job's jail follows, with the "
                     "step's environment and working directory; exit it to choose what happens next.\n",
                     step.name.c_str(), step.error.empty() ? "" : ": ", step.error.c_str());
        std::fflush(stderr);
        openShell(step);
        return ask(step);
    };
}

}  // namespace nixjail::runner::cli
