// Evaluates a parsed expression tree against an EvalContext.
#pragma once

#include <string_view>

#include "runner/base/result.h"
#include "runner/expr/ast.h"
#include "runner/expr/parser.h"

namespace nixjail::runner::expr {

// Limit on the bytes an evaluation may produce (format, join, toJSON, fromJSON, filters).
inline constexpr size_t kMaxMemoryBytes = 10 * 1024 * 1024;

// The parse options that match what `ctx` provides: its context names and status functions.
ParseOptions parseOptionsFor(const EvalContext& ctx);

// Evaluates `root`, parsed from `expression`; numbers in the result are doubles.
base::Result<Value, ExprError> evaluateTree(const Node& root, std::string_view expression,
                                            const EvalContext& ctx);

}  // namespace nixjail::runner::expr
