// Signals as events on a thread of their own (sigwait), never in a handler.
#include "runner/daemon/signal_watcher.h"

#include <pthread.h>

namespace nixjail::runner::daemon {

SignalWatcher::SignalWatcher(std::function<void(int)> on_signal) {
    ::signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    thread_ = std::thread([this, on_signal = std::move(on_signal)] {
        int sig = 0;
        while (sigwait(&set_, &sig) == 0) {
            if (sig == SIGUSR1) return;  // our own wake-up from the destructor
            on_signal(sig);
        }
    });
}

SignalWatcher::~SignalWatcher() {
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

}  // namespace nixjail::runner::daemon
