// Process-level wiring of the daemon: signals relayed to Daemon::shutdown, fatal errors printed.
#include "runner/daemon/daemon_main.h"

#include <spdlog/spdlog.h>

#include <mutex>

#include "runner/daemon/daemon_runtime.h"
#include "runner/daemon/signal_watcher.h"

namespace nixjail::runner::daemon {

namespace {

// Signals that come before the daemon exists are kept and delivered when it does.
class ShutdownRelay {
  public:
    void signal() {
        std::lock_guard lock(mutex_);
        if (daemon_) {
            daemon_->shutdown();
        } else {
            ++pending_;
        }
    }
    void attach(Daemon* d) {
        std::lock_guard lock(mutex_);
        daemon_ = d;
        for (; pending_ > 0; --pending_) d->shutdown();
    }
    void detach() {
        std::lock_guard lock(mutex_);
        daemon_ = nullptr;
    }

  private:
    std::mutex mutex_;
    Daemon* daemon_ = nullptr;
    int pending_ = 0;
};

}  // namespace

int daemonMain(const DaemonMainOptions& options) {
    ShutdownRelay relay;
    std::shared_ptr<spdlog::logger> log;
    SignalWatcher signals([&](int sig) {
        if (log) log->info("received {}", strsignal(sig));
        relay.signal();
    });
    try {
        auto config = config::loadConfigFile(options.config);
        log = makeDaemonLogger(config);
        DaemonRuntime runtime(std::move(config), options.default_cache_dir, options.nix_tools, log);
        relay.attach(&runtime.daemon());
        struct Detach {
            ShutdownRelay& relay;
            ~Detach() { relay.detach(); }  // before the runtime (and its daemon) goes away
        } detach{relay};
        int code = 0;
        if (options.one_job) {
            auto result = runtime.daemon().runOne(options.wait);
            if (!result) {
                log->info("no task was available");
                code = 3;
            } else {
                code = *result == forge::Result::Success ? 0 : 1;
            }
        } else {
            runtime.daemon().run();
            log->info("stopped");
        }
        return code;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "nixjail-runner %s: %s\n", options.command.c_str(), e.what());
        return 1;
    }
}

}  // namespace nixjail::runner::daemon
