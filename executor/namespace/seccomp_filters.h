// Each hardening profile's seccomp filter, compiled once per executor. libseccomp takes about a
// millisecond to compile one, which was on every job's start; the default profile's is compiled on
// a thread of its own as soon as the executor exists, beside what the runner does before its
// first job (flags, workflows, the job's root and network).
#pragma once

#include <future>
#include <map>
#include <memory>
#include <mutex>

#include "executor/executor.h"
#include "executor/namespace/seccomp_filter.h"

namespace nixjail::executor::ns {

class SeccompFilters {
  public:
    SeccompFilters();   // starts compiling the default profile's filter
    ~SeccompFilters();  // waits for that compile
    SeccompFilters(const SeccompFilters&) = delete;
    SeccompFilters& operator=(const SeccompFilters&) = delete;

    // The profile's filter (the same object for every job); throws base::Error naming the rule
    // libseccomp rejected, each time it is asked.
    std::shared_ptr<const SeccompProgram> get(HardeningProfile profile);

  private:
    using Compiled = std::shared_future<std::shared_ptr<const SeccompProgram>>;
    std::mutex mutex_;
    std::map<HardeningProfile, Compiled> compiled_;
};

}  // namespace nixjail::executor::ns
