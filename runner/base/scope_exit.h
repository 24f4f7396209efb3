// ScopeExit: run a one-off cleanup at scope end. A resource that needs this twice gets a named type.
#pragma once

#include <utility>

namespace nixjail::base {

template <class F>
class ScopeExit {
public:
    explicit ScopeExit(F f) : f_(std::move(f)) {}
    ~ScopeExit() {
        if (active_) f_();
    }
    ScopeExit(const ScopeExit&) = delete;
    ScopeExit& operator=(const ScopeExit&) = delete;
    void dismiss() { active_ = false; }

private:
    F f_;
    bool active_ = true;
};

}  // namespace nixjail::base
