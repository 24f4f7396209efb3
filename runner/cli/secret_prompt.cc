// The terminal in raw-ish mode for one line: no echo, no signals (Ctrl-C is read as a byte, so the
// mode is always restored), byte by byte.
#include "runner/cli/secret_prompt.h"

#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "runner/base/error.h"

namespace nixjail::runner::cli {

namespace {

constexpr char kInterrupt = 0x03;  // Ctrl-C
constexpr char kEndOfFile = 0x04;  // Ctrl-D
constexpr char kDelete = 0x7f;
constexpr char kBackspace = 0x08;

// The terminal's mode while it lives: echo and signals off, one byte per read.
class QuietTerminal {
  public:
    explicit QuietTerminal(int fd) : fd_(fd) {
        if (::tcgetattr(fd_, &saved_) != 0) throw base::SysError("reading the terminal's mode");
        termios quiet = saved_;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ICANON | ISIG);
        quiet.c_cc[VMIN] = 1;
        quiet.c_cc[VTIME] = 0;
        if (::tcsetattr(fd_, TCSAFLUSH, &quiet) != 0)
            throw base::SysError("turning off the terminal's echo");
    }
    ~QuietTerminal() {
        // Nothing to be done if it fails: the terminal is gone.
        ::tcsetattr(fd_, TCSAFLUSH, &saved_);
    }
    QuietTerminal(const QuietTerminal&) = delete;
    QuietTerminal& operator=(const QuietTerminal&) = delete;

  private:
    int fd_;
    termios saved_{};
};

}  // namespace

std::string askSecret(int fd, const std::string& prompt) {
    std::fputs(prompt.c_str(), stderr);
    std::fflush(stderr);
    std::string value;
    {
        QuietTerminal quiet(fd);
        for (;;) {
            char c = 0;
            const ssize_t n = ::read(fd, &c, 1);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw base::SysError("reading the secret from the terminal");
            if (n == 0 || c == '\n' || c == '\r') break;
            if (c == kInterrupt || (c == kEndOfFile && value.empty())) {
                std::fputs("\n", stderr);
                throw base::Error("cancelled at the prompt");
            }
            if (c == kEndOfFile) break;
            if (c == kDelete || c == kBackspace) {
                // One character, however many UTF-8 bytes it took.
                while (!value.empty() && (static_cast<unsigned char>(value.back()) & 0xC0) == 0x80)
                    value.pop_back();
                if (!value.empty()) value.pop_back();
                continue;
            }
            value.push_back(c);
        }
    }
    std::fputs("\n", stderr);
    return value;
}

}  // namespace nixjail::runner::cli
