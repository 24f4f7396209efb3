// The parsed form of an expression: a small tree whose height is capped at kMaxDepth.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runner/expr/expr.h"

namespace nixjail::runner::expr {

inline constexpr size_t kMaxDepth = 50;      // tree height, as in Actions
inline constexpr size_t kMaxLength = 21000;  // characters, as in Actions

enum class NodeKind {
    Literal,     // value
    NamedValue,  // name: a context such as github or matrix
    Wildcard,    // the `*` in `.*` / `[*]`
    Index,       // args[0][args[1]]
    Not,
    And,  // n-ary, returns an operand
    Or,   // n-ary, returns an operand
    Equal,
    NotEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Function,  // function (canonical name) applied to args
};

enum class Function {
    Contains,
    StartsWith,
    EndsWith,
    Format,
    Join,
    ToJson,
    FromJson,
    HashFiles,
    Case,
    Success,
    Failure,
    Cancelled,
    Always,
    Unknown,  // only when parsing leniently (usesStatusFunction)
};

struct Node {
    NodeKind kind = NodeKind::Literal;
    size_t pos = 0;     // offset of the token that produced the node
    size_t height = 1;  // 1 for leaves
    Value value;        // Literal
    std::string name;   // NamedValue / Function as written
    Function function = Function::Unknown;
    std::vector<std::unique_ptr<Node>> args;
};

using NodePtr = std::unique_ptr<Node>;

}  // namespace nixjail::runner::expr
