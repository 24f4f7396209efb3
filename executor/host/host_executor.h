// The host backend: steps run as plain host processes. For debugging only (--executor host):
// no filesystem, network or privilege isolation, and a process that leaves its session escapes.
#pragma once

#include <chrono>

#include "executor/executor.h"

namespace nixjail::executor {

// Steps see the host as it is: its paths, programs and network, as the runner's user.
inline BackendTraits hostTraits() { return {}; }

struct HostOptions {
    // On cancel the step's session gets SIGTERM, then SIGKILL after this long.
    std::chrono::milliseconds cancel_grace{5000};
};

class HostExecutor : public Executor {
public:
    explicit HostExecutor(HostOptions options = {}) : options_(options) {}
    std::string name() const override { return "host"; }
    BackendTraits traits() const override { return hostTraits(); }
    std::unique_ptr<Jail> prepare(const JailSpec& spec) override;

private:
    HostOptions options_;
};

}  // namespace nixjail::executor
