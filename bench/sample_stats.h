// What every benchmark here does with its samples: time a call, then summarise the times.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <vector>

namespace nixjail::bench {

struct SampleStats {
    double min, median, p95, p99, max, mean;
};

// `v` must not be empty. Quantiles are the sample at that rank (no interpolation).
inline SampleStats summarize(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    auto at = [&v](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(double(v.size()) * q))]; };
    double sum = 0;
    for (double x : v) sum += x;
    return {v.front(), at(0.5), at(0.95), at(0.99), v.back(), sum / double(v.size())};
}

// Wall time of `f` in milliseconds.
inline double timeMs(const std::function<void()>& f) {
    const auto start = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace nixjail::bench
