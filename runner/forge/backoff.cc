// Capped exponential backoff.
#include "runner/forge/backoff.h"

#include <algorithm>

namespace nixjail::runner::forge {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, double jitter,
                 uint32_t seed)
    : initial_(initial),
      max_(std::max(initial, max)),
      current_(initial),
      jitter_(jitter),
      rng_(seed) {}

std::chrono::milliseconds Backoff::next() {
    auto base = current_;
    current_ = std::min(max_, current_ * 2);
    if (jitter_ <= 0) return base;
    std::uniform_real_distribution<double> dist(1.0 - jitter_, 1.0 + jitter_);
    auto ms = static_cast<int64_t>(static_cast<double>(base.count()) * dist(rng_));
    return std::chrono::milliseconds(std::clamp<int64_t>(ms, 0, max_.count()));
}

}  // namespace nixjail::runner::forge
