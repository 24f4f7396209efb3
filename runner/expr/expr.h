// The GitHub Actions expression language: parse and evaluate `${{ }}` expressions, `if:` conditions
// and templated strings against the job's contexts.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "runner/base/result.h"

namespace nixjail::runner::expr {

// null, bool, number (always stored as double), string, array, object.
using Value = nlohmann::json;

// A problem with an expression: what is wrong and where (0-based offset into `expression`).
struct ExprError {
    std::string message;  // e.g. "Unexpected symbol: ')'", "Unrecognized function: 'foo'"
    std::string expression;
    size_t position = 0;
    // "message\n  <expression>\n  <spaces>^"
    std::string format() const;
};

struct EvalContext {
    // Keys: github env vars job jobs steps runner secrets strategy matrix needs inputs. Only the
    // keys present may be referenced; anything else is "Unrecognized named-value".
    Value contexts = Value::object();
    // Status functions; when empty, calling success()/failure()/cancelled()/always() is an error
    // ("... is not allowed here"), as Actions does outside `if`.
    std::function<bool()> success, failure, cancelled;
    // Base directory for hashFiles; empty means hashFiles is an error.
    std::filesystem::path workspace;
};

// Evaluates a bare expression (without `${{ }}`).
base::Result<Value, ExprError> evaluate(std::string_view expression, const EvalContext& ctx);

// `if:` conditions: optional `${{ }}`, an implicit `success() && (...)` when no status function is
// used, and the result coerced to bool.
base::Result<bool, ExprError> evaluateCondition(std::string_view condition, const EvalContext& ctx);

// Replaces every `${{ expr }}` in text with the value converted by toDisplayString.
base::Result<std::string, ExprError> interpolate(std::string_view text, const EvalContext& ctx);

// For typed places (with:, matrix, strategy, timeout-minutes, continue-on-error): when text is
// exactly one `${{ expr }}` (surrounding whitespace allowed) the raw Value, else the interpolated
// string.
base::Result<Value, ExprError> evaluateTemplate(std::string_view text, const EvalContext& ctx);

// Actions' truthiness: false, 0, -0, NaN, "" and null are falsy; everything else is truthy.
bool isTruthy(const Value& v);

// The string conversion used by interpolate, format and join.
std::string toDisplayString(const Value& v);

// Whether text contains a `${{`.
bool containsExpression(std::string_view text);

// Whether the condition calls success(), failure(), cancelled() or always() (case-insensitive).
bool usesStatusFunction(std::string_view condition);

}  // namespace nixjail::runner::expr
