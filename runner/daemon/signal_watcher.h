// SignalWatcher: SIGTERM and SIGINT blocked in every thread and received by one thread that
// calls `on_signal` for each; SIGPIPE ignored. Destroying it restores the signal mask.
#pragma once

#include <signal.h>

#include <functional>
#include <thread>

namespace nixjail::runner::daemon {

class SignalWatcher {
  public:
    // Construct before any other thread starts, so that they inherit the blocked mask.
    explicit SignalWatcher(std::function<void(int)> on_signal);
    ~SignalWatcher();
    SignalWatcher(const SignalWatcher&) = delete;
    SignalWatcher& operator=(const SignalWatcher&) = delete;

  private:
    sigset_t set_{}, old_{};
    std::thread thread_;
};

}  // namespace nixjail::runner::daemon
