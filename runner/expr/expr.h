// The GitHub Actions expression language: parse and evaluate `${{ }}` expressions, `if:` conditions
// and templated strings against the job's contexts.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "runner/base/result.h"

namespace nixjail::runner::expr {

// null, bool, number, string, array, object. Numbers in results are doubles and may be NaN or
// +-Infinity (nlohmann's dump() prints those as null; use toDisplayString or toJSON instead).
// Objects keep their keys in the order they were built, as the Actions runner does, so toJSON of
// fromJSON('{"b":1,"a":2}') lists b first. Contexts given as nlohmann::json convert implicitly
// (their keys arrive sorted).
using Value = nlohmann::ordered_json;

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
    // Base directory for hashFiles (the job's workspace on the host); empty means hashFiles is an
    // error. Files are read only beneath it (openat2 RESOLVE_BENEATH).
    std::filesystem::path workspace;
};

// Evaluates a bare expression (without `${{ }}`).
base::Result<Value, ExprError> evaluate(std::string_view expression, const EvalContext& ctx);

// `if:` conditions: optional `${{ }}`, an implicit `success() && (...)` when no status function is
// used (short-circuiting: after a failure the rest is parsed but not evaluated), and the result
// coerced to bool. Text mixed with `${{ }}` is interpolated and truthy unless empty, as in Actions.
// Without ctx.success the implicit success() counts as true. Error positions are offsets into
// `condition`.
base::Result<bool, ExprError> evaluateCondition(std::string_view condition, const EvalContext& ctx);

// Replaces every `${{ expr }}` in text with the value converted by toDisplayString. As in the
// runner, an array or object becomes "Array" / "Object" (use toJSON(...) for JSON). The closing
// `}}` is the first one outside a '...' literal. Error positions are offsets into `text`.
base::Result<std::string, ExprError> interpolate(std::string_view text, const EvalContext& ctx);

// For typed places (with:, matrix, strategy, timeout-minutes, continue-on-error): when text is
// exactly one `${{ expr }}` (surrounding whitespace allowed) the raw Value, else the interpolated
// string.
base::Result<Value, ExprError> evaluateTemplate(std::string_view text, const EvalContext& ctx);

// Actions' truthiness: false, 0, -0, NaN, "" and null are falsy; everything else is truthy.
bool isTruthy(const Value& v);

// The string conversion used by interpolate, format and join: null -> "", true/false, numbers as
// .NET's G15 (3, 1.5, 1E+15, 1E-05, NaN, Infinity), strings as is, "Array", "Object".
std::string toDisplayString(const Value& v);

// Whether text contains a `${{`. Without one, interpolate returns the text unchanged whatever the
// contexts, so callers can skip building them.
bool containsExpression(std::string_view text);

// Whether the condition calls success(), failure(), cancelled() or always() (case-insensitive).
bool usesStatusFunction(std::string_view condition);

}  // namespace nixjail::runner::expr
