// Parses an expression into a Node tree, reporting the first problem with its position.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/base/result.h"
#include "runner/expr/ast.h"

namespace nixjail::runner::expr {

struct ParseOptions {
    // Whether a named-value (a context name) may be referenced; empty accepts any name.
    std::function<bool(std::string_view)> isNamedValue;
    // The names that may be referenced, for "did you mean" hints.
    std::vector<std::string> namedValues;
    // Whether success()/failure()/cancelled()/always() may be called (only in `if:`).
    std::function<bool(Function)> statusFunctionAllowed;
    // Accept unknown functions (for syntax checks only; such trees must not be evaluated).
    bool allowUnknownFunctions = false;
};

base::Result<NodePtr, ExprError> parse(std::string_view expression, const ParseOptions& options);

// One `${{ }}` of a text (or a bare condition), parsed; `offset` is where its expression starts in
// the text, so `offset + node.pos` is a node's position in the text.
struct ParsedExpression {
    size_t offset = 0;
    NodePtr tree;
};

// Parses every `${{ }}` in text, for checks at load time; error positions are offsets into text.
base::Result<std::vector<ParsedExpression>, ExprError> parseTemplate(std::string_view text,
                                                                     const ParseOptions& options);

// Parses an `if:` condition as evaluateCondition reads it: a bare expression, one `${{ }}`, or text
// mixed with `${{ }}`. An empty condition gives no expressions.
base::Result<std::vector<ParsedExpression>, ExprError> parseCondition(
    std::string_view condition, const ParseOptions& options);

// Whether the tree calls a status function anywhere.
bool callsStatusFunction(const Node& node);

}  // namespace nixjail::runner::expr
