// `${{ }}` in text: interpolation, typed templates and `if:` conditions.
#include <cctype>
#include <optional>
#include <vector>

#include "runner/expr/evaluator.h"
#include "runner/expr/expr.h"
#include "runner/expr/parser.h"

namespace nixjail::runner::expr {
namespace {

constexpr std::string_view kOpen = "${{";

// One `${{ expr }}` in a text: [begin, end) covers the braces, inner the expression text.
struct Segment {
    size_t begin;
    size_t end;
    size_t innerBegin;
    std::string_view inner;
};

struct Scan {
    std::vector<Segment> segments;
    std::optional<ExprError> error;
};

bool isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Finds each `${{ ... }}`; the closing `}}` is the first one outside a '...' string literal.
Scan scan(std::string_view text) {
    Scan s;
    size_t i = 0;
    while ((i = text.find(kOpen, i)) != std::string_view::npos) {
        size_t start = i;
        size_t j = i + kOpen.size();
        bool inString = false;
        size_t close = std::string_view::npos;
        for (; j < text.size(); ++j) {
            if (text[j] == '\'') {
                inString = !inString;
            } else if (!inString && text[j] == '}' && j + 1 < text.size() && text[j + 1] == '}') {
                close = j;
                break;
            }
        }
        if (close == std::string_view::npos) {
            s.error = ExprError{
                "The expression is not closed: '${{' has no matching '}}'; write it as "
                "${{ '${{' }} to get the literal text",
                std::string(text), start};
            return s;
        }
        size_t innerBegin = start + kOpen.size();
        s.segments.push_back(
            Segment{start, close + 2, innerBegin, text.substr(innerBegin, close - innerBegin)});
        i = close + 2;
    }
    return s;
}

bool isBlank(std::string_view s) {
    for (char c : s) {
        if (!isSpace(c)) return false;
    }
    return true;
}

// Re-anchors an error from an inner expression to the whole text.
ExprError inText(ExprError e, std::string_view text, size_t innerBegin) {
    e.position += innerBegin;
    e.expression = std::string(text);
    return e;
}

base::Result<Value, ExprError> evaluateSegment(std::string_view text, const Segment& seg,
                                               const EvalContext& ctx) {
    if (isBlank(seg.inner)) {
        return base::unexpected(
            ExprError{"An expression was expected inside '${{ }}'", std::string(text), seg.begin});
    }
    auto v = evaluate(seg.inner, ctx);
    if (!v) return base::unexpected(inText(v.error(), text, seg.innerBegin));
    return v;
}

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
    while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
    return s;
}

}  // namespace

bool containsExpression(std::string_view text) {
    return text.find(kOpen) != std::string_view::npos;
}

base::Result<std::string, ExprError> interpolate(std::string_view text, const EvalContext& ctx) {
    Scan s = scan(text);
    if (s.error) return base::unexpected(*s.error);
    std::string out;
    size_t at = 0;
    for (const auto& seg : s.segments) {
        out.append(text.substr(at, seg.begin - at));
        auto v = evaluateSegment(text, seg, ctx);
        if (!v) return base::unexpected(v.error());
        out += toDisplayString(*v);
        at = seg.end;
    }
    out.append(text.substr(at));
    return out;
}

base::Result<Value, ExprError> evaluateTemplate(std::string_view text, const EvalContext& ctx) {
    std::string_view t = trimmed(text);
    Scan s = scan(t);
    if (!s.error && s.segments.size() == 1 && s.segments[0].begin == 0 &&
        s.segments[0].end == t.size()) {
        size_t offset = static_cast<size_t>(t.data() - text.data());
        auto v = evaluateSegment(t, s.segments[0], ctx);
        if (!v) {
            ExprError e = v.error();
            e.position += offset;
            e.expression = std::string(text);
            return base::unexpected(e);
        }
        return v;
    }
    auto str = interpolate(text, ctx);
    if (!str) return base::unexpected(str.error());
    return Value(std::move(*str));
}

base::Result<std::vector<ParsedExpression>, ExprError> parseTemplate(std::string_view text,
                                                                     const ParseOptions& options) {
    Scan s = scan(text);
    if (s.error) return base::unexpected(*s.error);
    std::vector<ParsedExpression> out;
    for (const auto& seg : s.segments) {
        if (isBlank(seg.inner)) {
            return base::unexpected(ExprError{"An expression was expected inside '${{ }}'",
                                              std::string(text), seg.begin});
        }
        auto tree = parse(seg.inner, options);
        if (!tree) return base::unexpected(inText(tree.error(), text, seg.innerBegin));
        out.push_back(ParsedExpression{seg.innerBegin, std::move(*tree)});
    }
    return out;
}

base::Result<std::vector<ParsedExpression>, ExprError> parseCondition(
    std::string_view condition, const ParseOptions& options) {
    std::string_view c = trimmed(condition);
    if (c.empty()) return std::vector<ParsedExpression>{};
    if (containsExpression(c)) return parseTemplate(condition, options);
    size_t offset = static_cast<size_t>(c.data() - condition.data());
    auto tree = parse(c, options);
    if (!tree) return base::unexpected(inText(tree.error(), condition, offset));
    std::vector<ParsedExpression> out;
    out.push_back(ParsedExpression{offset, std::move(*tree)});
    return out;
}

bool usesStatusFunction(std::string_view condition) {
    ParseOptions lenient;
    lenient.allowUnknownFunctions = true;
    lenient.statusFunctionAllowed = [](Function) { return true; };
    auto uses = [&](std::string_view expr) {
        auto tree = parse(expr, lenient);
        return tree && callsStatusFunction(**tree);
    };
    if (!containsExpression(condition)) return uses(condition);
    Scan s = scan(condition);
    for (const auto& seg : s.segments) {
        if (uses(seg.inner)) return true;
    }
    return false;
}

base::Result<bool, ExprError> evaluateCondition(std::string_view condition,
                                                const EvalContext& ctx) {
    std::string_view c = trimmed(condition);
    bool implicitSuccess = !usesStatusFunction(c);
    auto successSoFar = [&]() { return !implicitSuccess || !ctx.success || ctx.success(); };

    if (c.empty()) return successSoFar();

    // `${{ expr }}` alone is the expression; text mixed with `${{ }}` is a string (truthy unless
    // empty), as in Actions.
    std::string_view expression = c;
    size_t offset = static_cast<size_t>(c.data() - condition.data());
    if (containsExpression(c)) {
        Scan s = scan(c);
        if (s.error || s.segments.size() != 1 || s.segments[0].begin != 0 ||
            s.segments[0].end != c.size()) {
            auto str = interpolate(condition, ctx);  // reports errors against the whole text
            if (!str) return base::unexpected(str.error());
            return successSoFar() && !str->empty();
        }
        expression = s.segments[0].inner;
        offset += s.segments[0].innerBegin;
        if (isBlank(expression)) {
            return base::unexpected(ExprError{"An expression was expected inside '${{ }}'",
                                              std::string(condition), offset});
        }
    }

    auto tree = parse(expression, parseOptionsFor(ctx));
    if (!tree) return base::unexpected(inText(tree.error(), condition, offset));
    if (!successSoFar()) return false;  // `success() && (...)` short-circuits
    auto v = evaluateTree(**tree, expression, ctx);
    if (!v) return base::unexpected(inText(v.error(), condition, offset));
    return isTruthy(*v);
}

}  // namespace nixjail::runner::expr
