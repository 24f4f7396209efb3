// Secret: a value that formats as *** in logs, so the operator log never shows it by accident.
#pragma once

#include <fmt/format.h>

#include <string>

namespace nixjail::base {

class Secret {
public:
    Secret() = default;
    explicit Secret(std::string value) : value_(std::move(value)) {}
    // The only way to the real value: call sites that need it say so.
    const std::string& reveal() const { return value_; }
    bool empty() const { return value_.empty(); }

private:
    std::string value_;
};

}  // namespace nixjail::base

template <>
struct fmt::formatter<nixjail::base::Secret> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(const nixjail::base::Secret&, Ctx& ctx) const {
        return fmt::formatter<std::string_view>::format("***", ctx);
    }
};
