// ScopeExit: run a one-off cleanup at scope end. A resource that needs this twice gets a named type.
#pragma once

#include <utility>

namespace nixjail::base {

template <class F>
class ScopeExit {
public:
    explicit ScopeExit(F f) : f_(std::move(f)) {}
    ~ScopeExit() { f_(); }
    ScopeExit(const ScopeExit&) = delete;
    ScopeExit& operator=(const ScopeExit&) = delete;

private:
    F f_;
};

}  // namespace nixjail::base
