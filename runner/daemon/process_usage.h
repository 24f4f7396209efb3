// ProcessUsage: what processes used, summed over steps: the CPU time adds up, the memory peak is
// the largest. Unset until a step reports a value.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>

#include "runner/actions/job_observer.h"

namespace nixjail::runner::daemon {

struct ProcessUsage {
    std::optional<std::chrono::milliseconds> cpu;
    std::optional<uint64_t> peak_memory_bytes;

    void add(const actions::StepRecord& step) {
        if (step.cpu_time) cpu = cpu.value_or(std::chrono::milliseconds{0}) + *step.cpu_time;
        if (step.peak_memory_bytes)
            peak_memory_bytes = std::max(peak_memory_bytes.value_or(0), *step.peak_memory_bytes);
    }
    // In the job database's units.
    std::optional<double> cpuSeconds() const {
        if (!cpu) return std::nullopt;
        return static_cast<double>(cpu->count()) / 1000.0;
    }
    std::optional<int64_t> peakMemory() const {
        if (!peak_memory_bytes) return std::nullopt;
        return static_cast<int64_t>(*peak_memory_bytes);
    }
};

}  // namespace nixjail::runner::daemon
