// Recursive-descent parser with Actions' precedence: ! > (< <= > >=) > (== !=) > && > ||.
#include "runner/expr/parser.h"

#include <algorithm>
#include <array>
#include <utility>

#include "runner/expr/lexer.h"
#include "runner/expr/suggest.h"
#include "runner/expr/value_ops.h"

namespace nixjail::runner::expr {
namespace {

struct FunctionInfo {
    const char* name;
    Function function;
    size_t minArgs;
    size_t maxArgs;
};

constexpr std::array<FunctionInfo, 13> kFunctions{{
    {"contains", Function::Contains, 2, 2},
    {"startsWith", Function::StartsWith, 2, 2},
    {"endsWith", Function::EndsWith, 2, 2},
    {"format", Function::Format, 1, 255},
    {"join", Function::Join, 1, 2},
    {"toJSON", Function::ToJson, 1, 1},
    {"fromJSON", Function::FromJson, 1, 1},
    {"hashFiles", Function::HashFiles, 1, 255},
    {"case", Function::Case, 3, 255},  // pairs of predicate and value, then the default
    {"success", Function::Success, 0, 0},
    {"failure", Function::Failure, 0, 0},
    {"cancelled", Function::Cancelled, 0, 0},
    {"always", Function::Always, 0, 0},
}};

const FunctionInfo* findFunction(std::string_view name) {
    for (const auto& f : kFunctions) {
        if (equalsIgnoreCase(f.name, name)) return &f;
    }
    return nullptr;
}

bool isStatus(Function f) {
    return f == Function::Success || f == Function::Failure || f == Function::Cancelled ||
           f == Function::Always;
}

struct ParseFailure {
    std::string message;
    size_t pos;
};

int precedence(std::string_view op) {
    if (op == "||") return 5;
    if (op == "&&") return 6;
    if (op == "==" || op == "!=") return 10;
    if (op == "<" || op == "<=" || op == ">" || op == ">=") return 11;
    return -1;  // "!" is unary only
}

NodeKind binaryKind(std::string_view op) {
    if (op == "||") return NodeKind::Or;
    if (op == "&&") return NodeKind::And;
    if (op == "==") return NodeKind::Equal;
    if (op == "!=") return NodeKind::NotEqual;
    if (op == "<") return NodeKind::Less;
    if (op == "<=") return NodeKind::LessEqual;
    if (op == ">") return NodeKind::Greater;
    return NodeKind::GreaterEqual;
}

class Parser {
  public:
    Parser(std::string_view expression, const ParseOptions& options)
        : options_(options), tokens_(tokenize(expression)) {}

    NodePtr run() {
        if (tokens_.front().kind == TokenKind::End) {
            throw ParseFailure{"An expression was expected", 0};
        }
        NodePtr root = parseBinary(0);
        if (peek().kind != TokenKind::End) unexpected();
        return root;
    }

  private:
    // Bounds the recursion of nested groups, calls, indexes and `!`.
    class Nest {
      public:
        Nest(Parser& p, size_t pos) : p_(p) {
            if (++p_.nesting_ > kMaxDepth) throw ParseFailure{depthMessage(), pos};
        }
        ~Nest() { --p_.nesting_; }
        Nest(const Nest&) = delete;
        Nest& operator=(const Nest&) = delete;

      private:
        Parser& p_;
    };

    static std::string depthMessage() {
        return "Exceeded max expression depth " + std::to_string(kMaxDepth);
    }

    const Token& peek() const { return tokens_[i_]; }
    const Token& take() { return tokens_[i_++]; }

    [[noreturn]] void unexpected() const {
        const Token& t = peek();
        if (t.kind == TokenKind::End) {
            const Token& last = tokens_[i_ > 0 ? i_ - 1 : 0];
            throw ParseFailure{"Unexpected end of expression: '" + last.raw + "'", last.pos};
        }
        throw ParseFailure{"Unexpected symbol: '" + t.raw + "'", t.pos};
    }

    void expect(TokenKind kind) {
        if (peek().kind != kind) unexpected();
        ++i_;
    }

    static NodePtr makeNode(NodeKind kind, size_t pos) {
        auto n = std::make_unique<Node>();
        n->kind = kind;
        n->pos = pos;
        return n;
    }

    // Adds a child and keeps the height within Actions' limit.
    static void adopt(Node& parent, NodePtr child) {
        parent.height = std::max(parent.height, child->height + 1);
        if (parent.height > kMaxDepth) throw ParseFailure{depthMessage(), parent.pos};
        parent.args.push_back(std::move(child));
    }

    NodePtr parseBinary(int minPrecedence) {
        NodePtr left = parseUnary();
        while (peek().kind == TokenKind::Operator) {
            int prec = precedence(peek().raw);
            if (prec < 0 || prec < minPrecedence) break;
            const Token& op = take();
            NodeKind kind = binaryKind(op.raw);
            NodePtr right = parseBinary(prec + 1);
            auto node = makeNode(kind, op.pos);
            for (NodePtr* operand : {&left, &right}) {
                // && and || are n-ary, as in Actions, so long chains stay shallow.
                if ((kind == NodeKind::And || kind == NodeKind::Or) && (*operand)->kind == kind) {
                    for (auto& a : (*operand)->args) adopt(*node, std::move(a));
                } else {
                    adopt(*node, std::move(*operand));
                }
            }
            left = std::move(node);
        }
        return left;
    }

    NodePtr parseUnary() {
        if (peek().kind == TokenKind::Operator && peek().raw == "!") {
            const Token& bang = take();
            Nest nest(*this, bang.pos);
            auto node = makeNode(NodeKind::Not, bang.pos);
            adopt(*node, parseUnary());
            return node;
        }
        return parsePostfix();
    }

    NodePtr parsePostfix() {
        const Token& t = peek();
        NodePtr node;
        switch (t.kind) {
            case TokenKind::Null:
            case TokenKind::True:
            case TokenKind::False:
            case TokenKind::Number:
            case TokenKind::String: {
                // Literals take no index, as in Actions ('abc'[0] is an error).
                node = makeNode(NodeKind::Literal, t.pos);
                if (t.kind == TokenKind::True || t.kind == TokenKind::False) {
                    node->value = t.kind == TokenKind::True;
                } else if (t.kind == TokenKind::Number) {
                    node->value = t.number;
                } else if (t.kind == TokenKind::String) {
                    node->value = t.text;
                }
                ++i_;
                return node;
            }
            case TokenKind::LParen: {
                ++i_;
                Nest nest(*this, t.pos);
                node = parseBinary(0);
                expect(TokenKind::RParen);
                break;
            }
            case TokenKind::Keyword:
                node = t.followedByParen ? parseCall() : parseNamedValue();
                break;
            default:
                unexpected();
        }
        return parseIndexes(std::move(node));
    }

    NodePtr parseNamedValue() {
        const Token& t = take();
        if (options_.isNamedValue && !options_.isNamedValue(t.raw)) {
            throw ParseFailure{"Unrecognized named-value: '" + t.raw + "'" +
                                   didYouMean(t.raw, options_.namedValues),
                               t.pos};
        }
        auto node = makeNode(NodeKind::NamedValue, t.pos);
        node->name = t.raw;
        return node;
    }

    NodePtr parseCall() {
        const Token& name = take();
        const FunctionInfo* info = findFunction(name.raw);
        if (!info && !options_.allowUnknownFunctions) {
            std::vector<std::string> names;
            for (const auto& f : kFunctions) names.emplace_back(f.name);
            throw ParseFailure{
                "Unrecognized function: '" + name.raw + "'" + didYouMean(name.raw, names),
                name.pos};
        }
        Function function = info ? info->function : Function::Unknown;
        if (isStatus(function) &&
            !(options_.statusFunctionAllowed && options_.statusFunctionAllowed(function))) {
            throw ParseFailure{"Function '" + name.raw +
                                   "' is not allowed here: status functions work only in if: "
                                   "conditions",
                               name.pos};
        }
        auto node = makeNode(NodeKind::Function, name.pos);
        node->name = name.raw;
        node->function = function;
        Nest nest(*this, name.pos);
        expect(TokenKind::LParen);
        if (peek().kind == TokenKind::RParen) {
            ++i_;
        } else {
            while (true) {
                adopt(*node, parseBinary(0));
                if (peek().kind == TokenKind::Comma) {
                    ++i_;
                    continue;
                }
                expect(TokenKind::RParen);
                break;
            }
        }
        if (info && node->args.size() < info->minArgs) {
            throw ParseFailure{"Too few parameters supplied: '" + name.raw + "'", name.pos};
        }
        if (info && node->args.size() > info->maxArgs) {
            throw ParseFailure{"Too many parameters supplied: '" + name.raw + "'", name.pos};
        }
        return node;
    }

    NodePtr parseIndexes(NodePtr node) {
        while (true) {
            const Token& t = peek();
            if (t.kind == TokenKind::Dot) {
                ++i_;
                auto index = makeNode(NodeKind::Index, t.pos);
                const Token& prop = peek();
                NodePtr key;
                if (prop.kind == TokenKind::Star) {
                    key = makeNode(NodeKind::Wildcard, prop.pos);
                } else if (prop.kind == TokenKind::Keyword) {
                    key = makeNode(NodeKind::Literal, prop.pos);
                    key->value = prop.raw;
                } else {
                    unexpected();
                }
                ++i_;
                adopt(*index, std::move(node));
                adopt(*index, std::move(key));
                node = std::move(index);
            } else if (t.kind == TokenKind::LBracket) {
                ++i_;
                Nest nest(*this, t.pos);
                auto index = makeNode(NodeKind::Index, t.pos);
                NodePtr key;
                if (peek().kind == TokenKind::Star) {
                    key = makeNode(NodeKind::Wildcard, peek().pos);
                    ++i_;
                } else {
                    key = parseBinary(0);
                }
                expect(TokenKind::RBracket);
                adopt(*index, std::move(node));
                adopt(*index, std::move(key));
                node = std::move(index);
            } else {
                return node;
            }
        }
    }

    const ParseOptions& options_;
    std::vector<Token> tokens_;
    size_t i_ = 0;
    size_t nesting_ = 0;
};

}  // namespace

base::Result<NodePtr, ExprError> parse(std::string_view expression, const ParseOptions& options) {
    std::string text(expression);
    if (expression.size() > kMaxLength) {
        return base::unexpected(ExprError{
            "Exceeded max expression length " + std::to_string(kMaxLength), std::move(text), 0});
    }
    try {
        return Parser(expression, options).run();
    } catch (const ParseFailure& f) {
        return base::unexpected(ExprError{f.message, std::move(text), f.pos});
    }
}

bool callsStatusFunction(const Node& node) {
    if (node.kind == NodeKind::Function && isStatus(node.function)) return true;
    return std::any_of(node.args.begin(), node.args.end(),
                       [](const NodePtr& a) { return callsStatusFunction(*a); });
}

}  // namespace nixjail::runner::expr
