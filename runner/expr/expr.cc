// The public entry points for bare expressions and value conversions.
#include "runner/expr/expr.h"

#include <cmath>

#include "runner/expr/evaluator.h"
#include "runner/expr/parser.h"
#include "runner/expr/value_ops.h"

namespace nixjail::runner::expr {

std::string ExprError::format() const {
    size_t pos = std::min(position, expression.size());
    size_t lineStart = pos == 0 ? std::string::npos : expression.rfind('\n', pos - 1);
    lineStart = lineStart == std::string::npos ? 0 : lineStart + 1;
    size_t lineEnd = expression.find('\n', lineStart);
    if (lineEnd == std::string::npos) lineEnd = expression.size();
    std::string line = expression.substr(lineStart, lineEnd - lineStart);
    std::string out = message;
    out += "\n  ";
    out += line;
    out += "\n  ";
    out.append(pos - lineStart, ' ');
    out += '^';
    return out;
}

base::Result<Value, ExprError> evaluate(std::string_view expression, const EvalContext& ctx) {
    auto tree = parse(expression, parseOptionsFor(ctx));
    if (!tree) return base::unexpected(tree.error());
    return evaluateTree(**tree, expression, ctx);
}

bool isTruthy(const Value& v) {
    switch (kindOf(v)) {
        case Kind::Null:
            return false;
        case Kind::Boolean:
            return v.get<bool>();
        case Kind::Number: {
            double d = v.get<double>();
            return !(d == 0.0 || std::isnan(d));
        }
        case Kind::String:
            return !v.get_ref<const std::string&>().empty();
        default:
            return true;
    }
}

std::string toDisplayString(const Value& v) {
    switch (kindOf(v)) {
        case Kind::Null:
            return "";
        case Kind::Boolean:
            return v.get<bool>() ? "true" : "false";
        case Kind::Number:
            return formatNumber(v.get<double>());
        case Kind::String:
            return v.get<std::string>();
        case Kind::Array:
            return "Array";
        case Kind::Object:
            return "Object";
    }
    return "";
}

}  // namespace nixjail::runner::expr
