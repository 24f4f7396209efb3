// Backoff: capped exponential delays with jitter for retrying the forge after network errors/5xx.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace nixjail::runner::forge {

class Backoff {
  public:
    // Delays start at `initial`, double after each next(), never exceed `max`, and vary by
    // ±jitter (0.2 = ±20 %) so that many runners do not retry in step.
    Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, double jitter = 0.2,
            uint32_t seed = std::random_device{}());
    std::chrono::milliseconds next();
    // After a success: the next failure starts again at `initial`.
    void reset() { current_ = initial_; }

  private:
    std::chrono::milliseconds initial_;
    std::chrono::milliseconds max_;
    std::chrono::milliseconds current_;
    double jitter_;
    std::mt19937 rng_;
};

}  // namespace nixjail::runner::forge
