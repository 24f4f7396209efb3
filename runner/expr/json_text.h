// toJSON's text: two-space indentation, numbers as Actions prints them (G15, NaN, Infinity) and
// strings escaped like Newtonsoft.Json. Iterative, so deep values cannot exhaust the stack.
#pragma once

#include <string>
#include <vector>

#include "runner/expr/expr.h"

namespace nixjail::runner::expr {

std::string toJsonText(const Value& v);
// An array whose items live elsewhere (the result of a `.*` filter).
std::string toJsonText(const std::vector<const Value*>& items);

// A JSON string literal with Newtonsoft's default escaping.
std::string quoteJsonString(std::string_view s);

}  // namespace nixjail::runner::expr
