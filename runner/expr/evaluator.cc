// The tree walker: named-values, indexes and `.*` filters, operators, and the entry point.
#include "runner/expr/evaluator.h"

#include <cmath>
#include <limits>
#include <optional>

#include "runner/expr/eval_result.h"

namespace nixjail::runner::expr {
namespace {

const Value kTrue = true;
const Value kFalse = false;

std::optional<size_t> integerIndex(const Res& key) {
    double d = key.filtered ? std::numeric_limits<double>::quiet_NaN() : toNumber(*key.v);
    if (std::isnan(d) || d < 0) return std::nullopt;
    d = std::floor(d);
    if (d > static_cast<double>(std::numeric_limits<int32_t>::max())) return std::nullopt;
    return static_cast<size_t>(d);
}

std::optional<std::string> stringIndex(const Res& key) {
    if (!isPrimitive(key.kind())) return std::nullopt;
    return toDisplayString(*key.v);
}

}  // namespace

const Value& nullValue() {
    static const Value null = nullptr;
    return null;
}

Res owned(Value value) {
    auto p = std::make_shared<const Value>(std::move(value));
    Res r;
    r.v = p.get();
    r.owner = std::move(p);
    return r;
}

Res boolean(bool b) {
    Res r;
    r.v = b ? &kTrue : &kFalse;
    return r;
}

Res borrowed(const Value* v, const Res& parent) {
    Res r;
    r.v = v;
    r.owner = parent.owner;
    return r;
}

std::string displayString(const Res& r) {
    return r.filtered ? std::string("Array") : toDisplayString(*r.v);
}

bool truthy(const Res& r) { return r.filtered ? true : isTruthy(*r.v); }

void normalizeNumbers(Value& v, size_t depth) {
    if (v.is_number() && !v.is_number_float()) {
        v = v.get<double>();
    } else if (v.is_structured() && depth < 1000) {
        for (auto& item : v) normalizeNumbers(item, depth + 1);
    }
}

Res Evaluator::eval(const Node& n) {
    switch (n.kind) {
        case NodeKind::Literal: {
            Res r;
            r.v = &n.value;  // the tree outlives the evaluation
            return r;
        }
        case NodeKind::NamedValue: {
            Res r;
            const Value* v = findKeyIgnoreCase(ctx_.contexts, n.name);
            r.v = v ? v : &nullValue();
            return r;
        }
        case NodeKind::Wildcard:
            return Res{};  // only meaningful as an index; handled there
        case NodeKind::Index:
            return index(n);
        case NodeKind::Not:
            return boolean(!truthy(eval(*n.args[0])));
        case NodeKind::And:
        case NodeKind::Or: {
            Res last;
            for (const auto& a : n.args) {
                last = eval(*a);
                if (truthy(last) != (n.kind == NodeKind::And)) return last;
            }
            return last;
        }
        case NodeKind::Equal:
        case NodeKind::NotEqual:
        case NodeKind::Less:
        case NodeKind::LessEqual:
        case NodeKind::Greater:
        case NodeKind::GreaterEqual:
            return compare(n);
        case NodeKind::Function:
            return callFunction(*this, n);
    }
    return Res{};
}

Res Evaluator::compare(const Node& n) {
    Res a = eval(*n.args[0]);  // left before right, as in Actions
    Res b = eval(*n.args[1]);
    switch (n.kind) {
        case NodeKind::Equal:
            return boolean(looseEqual(a, b));
        case NodeKind::NotEqual:
            return boolean(!looseEqual(a, b));
        case NodeKind::Less:
            return boolean(looseGreater(b, a));
        case NodeKind::LessEqual:
            return boolean(looseEqual(a, b) || looseGreater(b, a));
        case NodeKind::Greater:
            return boolean(looseGreater(a, b));
        default:
            return boolean(looseEqual(a, b) || looseGreater(a, b));
    }
}

void Evaluator::charge(size_t bytes, size_t pos) {
    used_ += bytes;
    if (used_ > kMaxMemoryBytes) {
        throw EvalFailure{"The expression needs more than " +
                              std::to_string(kMaxMemoryBytes / (1024 * 1024)) +
                              " MiB of memory; simplify it",
                          pos};
    }
}

Res Evaluator::filteredOf(const Res& parent) {
    Res r;
    r.v = nullptr;
    r.owner = parent.owner;
    r.filtered = std::make_shared<std::vector<const Value*>>();
    return r;
}

void Evaluator::push(Res& filtered, const Value* item, size_t pos) {
    charge(sizeof(item), pos);
    filtered.filtered->push_back(item);
}

Res Evaluator::index(const Node& n) {
    Res left = eval(*n.args[0]);
    const Node& keyNode = *n.args[1];
    bool wildcard = keyNode.kind == NodeKind::Wildcard;
    Res key;
    if (!wildcard) key = eval(keyNode);

    if (left.filtered) {
        // Applies the index to each item of the filter.
        Res out = filteredOf(left);
        std::optional<std::string> str;
        std::optional<size_t> integer;
        if (!wildcard) {
            str = stringIndex(key);
            integer = integerIndex(key);
        }
        for (const Value* item : *left.filtered) {
            if (item->is_object()) {
                if (wildcard) {
                    for (const auto& v : *item) push(out, &v, n.pos);
                } else if (str) {
                    if (const Value* v = findKeyIgnoreCase(*item, *str)) push(out, v, n.pos);
                }
            } else if (item->is_array()) {
                if (wildcard) {
                    for (const auto& v : *item) push(out, &v, n.pos);
                } else if (integer && *integer < item->size()) {
                    push(out, &(*item)[*integer], n.pos);
                }
            }
        }
        return out;
    }
    const Value& container = *left.v;
    if (container.is_object()) {
        if (wildcard) {
            Res out = filteredOf(left);
            for (const auto& v : container) push(out, &v, n.pos);
            return out;
        }
        if (auto str = stringIndex(key)) {
            if (const Value* v = findKeyIgnoreCase(container, *str)) return borrowed(v, left);
        }
        return Res{};
    }
    if (container.is_array()) {
        if (wildcard) {
            Res out = filteredOf(left);
            for (const auto& v : container) push(out, &v, n.pos);
            return out;
        }
        auto integer = integerIndex(key);
        if (integer && *integer < container.size()) {
            return borrowed(&container[*integer], left);
        }
        return Res{};
    }
    return wildcard ? filteredOf(left) : Res{};
}

ParseOptions parseOptionsFor(const EvalContext& ctx) {
    ParseOptions o;
    const Value* contexts = &ctx.contexts;
    o.isNamedValue = [contexts](std::string_view name) {
        return findKeyIgnoreCase(*contexts, name) != nullptr;
    };
    for (auto it = ctx.contexts.begin(); ctx.contexts.is_object() && it != ctx.contexts.end();
         ++it) {
        o.namedValues.push_back(it.key());
    }
    bool success = static_cast<bool>(ctx.success);
    bool failure = static_cast<bool>(ctx.failure);
    bool cancelled = static_cast<bool>(ctx.cancelled);
    o.statusFunctionAllowed = [=](Function f) {
        switch (f) {
            case Function::Success:
            case Function::Always:
                return success;
            case Function::Failure:
                return failure;
            case Function::Cancelled:
                return cancelled;
            default:
                return false;
        }
    };
    return o;
}

base::Result<Value, ExprError> evaluateTree(const Node& root, std::string_view expression,
                                            const EvalContext& ctx) {
    try {
        Evaluator ev(ctx);
        Res r = ev.eval(root);
        Value out;
        if (r.filtered) {
            out = Value::array();
            for (const Value* item : *r.filtered) out.push_back(*item);
        } else {
            out = *r.v;
        }
        normalizeNumbers(out);
        return out;
    } catch (const EvalFailure& f) {
        return base::unexpected(ExprError{f.message, std::string(expression), f.pos});
    } catch (const Value::exception& e) {
        return base::unexpected(ExprError{std::string("internal JSON error: ") + e.what(),
                                          std::string(expression), root.pos});
    }
}

}  // namespace nixjail::runner::expr
