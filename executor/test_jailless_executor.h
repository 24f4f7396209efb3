// Test helper: the host executor under the traits of a jail with a network namespace of its own,
// i.e. a "jail" that keeps none of its promises. The runner's jail self-check must refuse it.
#pragma once

#include <memory>
#include <string>

#include "executor/executor.h"
#include "executor/host/host_executor.h"

namespace nixjail::executor::testing {

class JaillessExecutor : public Executor {
  public:
    std::string name() const override { return "weakened"; }
    BackendTraits traits() const override { return {.network = BackendTraits::Network::kOwnNamespace}; }
    std::unique_ptr<Jail> prepare(const JailSpec& spec) override { return host_.prepare(spec); }

  private:
    HostExecutor host_;
};

}  // namespace nixjail::executor::testing
