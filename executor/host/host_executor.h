// The host backend: steps run as plain host processes. For debugging only (--executor host):
// no filesystem, network or privilege isolation, and a process that leaves its session escapes.
#pragma once

#include "executor/executor.h"

namespace nixjail::executor {

class HostExecutor : public Executor {
public:
    std::string name() const override { return "host"; }
    bool isolatesFilesystem() const override { return false; }
    std::unique_ptr<Jail> prepare(const JailSpec& spec) override;
};

}  // namespace nixjail::executor
