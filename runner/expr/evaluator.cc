// The tree walker. Values from the contexts are borrowed, not copied, so that `==` on objects and
// arrays can compare identity as Actions does; `.*` filters are lists of borrowed pointers.
#include "runner/expr/evaluator.h"

#include <cmath>
#include <limits>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "runner/base/error.h"
#include "runner/expr/hash_files.h"
#include "runner/expr/json_text.h"
#include "runner/expr/value_ops.h"

namespace nixjail::runner::expr {
namespace {

constexpr size_t kMaxJsonDepth = 64;  // Newtonsoft.Json's default MaxDepth, which fromJSON hits

struct EvalFailure {
    std::string message;
    size_t pos;
};

const Value kNull = nullptr;
const Value kTrue = true;
const Value kFalse = false;

// The result of evaluating a node.
struct Res {
    const Value* v = &kNull;                // nullptr for a filtered array
    std::shared_ptr<const Value> owner;     // keeps v (and filtered items) alive when not borrowed
    std::shared_ptr<std::vector<const Value*>> filtered;

    Kind kind() const { return filtered ? Kind::Array : kindOf(*v); }
    bool isArray() const { return kind() == Kind::Array; }
    size_t size() const { return filtered ? filtered->size() : v->size(); }
    // Array element i, sharing this result's owner.
    Res at(size_t i) const {
        Res r;
        r.v = filtered ? (*filtered)[i] : &(*v)[i];
        r.owner = owner;
        return r;
    }
};

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

// A primitive view of a value for the loose comparisons.
struct Operand {
    Kind kind;
    double number = 0;
    const std::string* str = nullptr;
    bool flag = false;
    const void* identity = nullptr;  // arrays/objects; nullptr for filtered arrays (never equal)
};

Operand operandOf(const Res& r) {
    Operand o{r.kind()};
    switch (o.kind) {
        case Kind::Boolean:
            o.flag = r.v->get<bool>();
            break;
        case Kind::Number:
            o.number = r.v->get<double>();
            break;
        case Kind::String:
            o.str = &r.v->get_ref<const std::string&>();
            break;
        case Kind::Array:
        case Kind::Object:
            o.identity = r.filtered ? nullptr : r.v;
            break;
        case Kind::Null:
            break;
    }
    return o;
}

Operand asNumber(const Operand& o) {
    Operand n{Kind::Number};
    switch (o.kind) {
        case Kind::Null:
            n.number = 0;
            break;
        case Kind::Boolean:
            n.number = o.flag ? 1 : 0;
            break;
        case Kind::Number:
            n.number = o.number;
            break;
        case Kind::String:
            n.number = parseNumber(*o.str);
            break;
        default:
            n.number = std::numeric_limits<double>::quiet_NaN();
            break;
    }
    return n;
}

// JavaScript's abstract comparison coercions, without converting objects to primitives.
void coerce(Operand& l, Operand& r) {
    while (l.kind != r.kind) {
        if (l.kind == Kind::Number && r.kind == Kind::String) {
            r = asNumber(r);
        } else if (l.kind == Kind::String && r.kind == Kind::Number) {
            l = asNumber(l);
        } else if (l.kind == Kind::Boolean || l.kind == Kind::Null) {
            l = asNumber(l);
        } else if (r.kind == Kind::Boolean || r.kind == Kind::Null) {
            r = asNumber(r);
        } else {
            return;
        }
    }
}

bool looseEqual(const Res& a, const Res& b) {
    Operand l = operandOf(a), r = operandOf(b);
    coerce(l, r);
    if (l.kind != r.kind) return false;
    switch (l.kind) {
        case Kind::Null:
            return true;
        case Kind::Number:
            return l.number == r.number;  // false for NaN
        case Kind::String:
            return equalsIgnoreCase(*l.str, *r.str);
        case Kind::Boolean:
            return l.flag == r.flag;
        default:
            return l.identity != nullptr && l.identity == r.identity;
    }
}

bool looseGreater(const Res& a, const Res& b) {
    Operand l = operandOf(a), r = operandOf(b);
    coerce(l, r);
    if (l.kind != r.kind) return false;
    switch (l.kind) {
        case Kind::Number:
            return l.number > r.number;
        case Kind::String:
            return compareIgnoreCase(*l.str, *r.str) > 0;
        case Kind::Boolean:
            return l.flag && !r.flag;
        default:
            return false;
    }
}

bool looseLess(const Res& a, const Res& b) { return looseGreater(b, a); }

// Converts borrowed numbers (possibly integers) to doubles throughout a copied value.
void normalizeNumbers(Value& v, size_t depth = 0) {
    if (v.is_number() && !v.is_number_float()) {
        v = v.get<double>();
    } else if (v.is_structured() && depth < 1000) {
        for (auto& item : v) normalizeNumbers(item, depth + 1);
    }
}

class Evaluator {
public:
    Evaluator(const EvalContext& ctx) : ctx_(ctx) {}

    Res eval(const Node& n) {
        switch (n.kind) {
            case NodeKind::Literal: {
                Res r;
                r.v = &n.value;  // the tree outlives the evaluation
                return r;
            }
            case NodeKind::NamedValue: {
                Res r;
                const Value* v = findKeyIgnoreCase(ctx_.contexts, n.name);
                r.v = v ? v : &kNull;
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
                return boolean(looseEqual(eval(*n.args[0]), eval(*n.args[1])));
            case NodeKind::NotEqual:
                return boolean(!looseEqual(eval(*n.args[0]), eval(*n.args[1])));
            case NodeKind::Less:
                return boolean(looseLess(eval(*n.args[0]), eval(*n.args[1])));
            case NodeKind::LessEqual: {
                Res a = eval(*n.args[0]), b = eval(*n.args[1]);
                return boolean(looseEqual(a, b) || looseLess(a, b));
            }
            case NodeKind::Greater:
                return boolean(looseGreater(eval(*n.args[0]), eval(*n.args[1])));
            case NodeKind::GreaterEqual: {
                Res a = eval(*n.args[0]), b = eval(*n.args[1]);
                return boolean(looseEqual(a, b) || looseGreater(a, b));
            }
            case NodeKind::Function:
                return call(n);
        }
        return Res{};
    }

private:
    void charge(size_t bytes, size_t pos) {
        used_ += bytes;
        if (used_ > kMaxMemoryBytes) {
            throw EvalFailure{"The expression needs more than " +
                                  std::to_string(kMaxMemoryBytes / (1024 * 1024)) +
                                  " MiB of memory; simplify it",
                              pos};
        }
    }

    static std::optional<size_t> integerIndex(const Res& key) {
        double d = key.filtered ? std::numeric_limits<double>::quiet_NaN() : toNumber(*key.v);
        if (std::isnan(d) || d < 0) return std::nullopt;
        d = std::floor(d);
        if (d > static_cast<double>(std::numeric_limits<int32_t>::max())) return std::nullopt;
        return static_cast<size_t>(d);
    }

    static std::optional<std::string> stringIndex(const Res& key) {
        if (!isPrimitive(key.kind())) return std::nullopt;
        return toDisplayString(*key.v);
    }

    Res filteredOf(const Res& parent) {
        Res r;
        r.v = nullptr;
        r.owner = parent.owner;
        r.filtered = std::make_shared<std::vector<const Value*>>();
        return r;
    }

    void push(Res& filtered, const Value* item, size_t pos) {
        charge(sizeof(item), pos);
        filtered.filtered->push_back(item);
    }

    Res index(const Node& n) {
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

    Res call(const Node& n) {
        switch (n.function) {
            case Function::Contains:
                return contains(n);
            case Function::StartsWith:
            case Function::EndsWith: {
                Res a = eval(*n.args[0]);
                Res b = eval(*n.args[1]);
                if (!isPrimitive(a.kind()) || !isPrimitive(b.kind())) return boolean(false);
                std::string s = toDisplayString(*a.v), part = toDisplayString(*b.v);
                if (part.size() > s.size()) return boolean(false);
                size_t at = n.function == Function::StartsWith ? 0 : s.size() - part.size();
                return boolean(equalsIgnoreCase(std::string_view(s).substr(at, part.size()), part));
            }
            case Function::Format:
                return format(n);
            case Function::Join:
                return join(n);
            case Function::ToJson: {
                Res a = eval(*n.args[0]);
                std::string text = a.filtered ? toJsonText(*a.filtered) : toJsonText(*a.v);
                charge(text.size(), n.pos);
                return owned(std::move(text));
            }
            case Function::FromJson:
                return fromJson(n);
            case Function::HashFiles:
                return hashFilesCall(n);
            case Function::Success:
                return boolean(ctx_.success && ctx_.success());
            case Function::Failure:
                return boolean(ctx_.failure && ctx_.failure());
            case Function::Cancelled:
                return boolean(ctx_.cancelled && ctx_.cancelled());
            case Function::Always:
                return boolean(true);
            case Function::Unknown:
                break;
        }
        throw EvalFailure{"Unrecognized function: '" + n.name + "'", n.pos};
    }

    Res contains(const Node& n) {
        Res haystack = eval(*n.args[0]);
        if (isPrimitive(haystack.kind())) {
            Res needle = eval(*n.args[1]);
            if (!isPrimitive(needle.kind())) return boolean(false);
            return boolean(findIgnoreCase(toDisplayString(*haystack.v),
                                          toDisplayString(*needle.v)) != std::string::npos);
        }
        if (haystack.isArray()) {
            Res needle = eval(*n.args[1]);
            for (size_t i = 0; i < haystack.size(); ++i) {
                if (looseEqual(haystack.at(i), needle)) return boolean(true);
            }
        }
        return boolean(false);
    }

    Res join(const Node& n) {
        Res items = eval(*n.args[0]);
        if (items.isArray() && items.size() > 0) {
            std::string separator = ",";
            if (items.size() > 1 && n.args.size() > 1) {
                Res sep = eval(*n.args[1]);
                if (isPrimitive(sep.kind())) separator = toDisplayString(*sep.v);
            }
            std::string out;
            for (size_t i = 0; i < items.size(); ++i) {
                if (i > 0) out += separator;
                out += displayString(items.at(i));
                if (used_ + out.size() > kMaxMemoryBytes) charge(out.size(), n.pos);
            }
            charge(out.size(), n.pos);
            return owned(std::move(out));
        }
        if (isPrimitive(items.kind())) return owned(toDisplayString(*items.v));
        return owned(std::string());
    }

    Res format(const Node& n) {
        std::string fmt = displayString(eval(*n.args[0]));
        size_t argCount = n.args.size() - 1;
        std::vector<std::optional<std::string>> cache(argCount);
        auto invalid = [&]() {
            return EvalFailure{"The following format string is invalid: '" + fmt + "'", n.pos};
        };
        std::string out;
        size_t i = 0;
        while (i < fmt.size()) {
            size_t lbrace = fmt.find('{', i);
            size_t rbrace = fmt.find('}', i);
            if (lbrace != std::string::npos && (rbrace == std::string::npos || rbrace > lbrace)) {
                if (lbrace + 1 < fmt.size() && fmt[lbrace + 1] == '{') {  // "{{"
                    out.append(fmt, i, lbrace - i + 1);
                    i = lbrace + 2;
                    continue;
                }
                // "{" digits [":" specifiers] "}"
                size_t j = lbrace + 1;
                while (j < fmt.size() && fmt[j] >= '0' && fmt[j] <= '9') ++j;
                size_t digits = j - (lbrace + 1);
                if (digits == 0 || j >= fmt.size()) throw invalid();
                if (fmt[j] == ':') {
                    throw EvalFailure{"Format specifiers are not supported: '" + fmt + "'", n.pos};
                }
                if (fmt[j] != '}') throw invalid();
                std::string_view num = std::string_view(fmt).substr(lbrace + 1, digits);
                size_t index = 0;
                for (char c : num) {
                    index = index * 10 + static_cast<size_t>(c - '0');
                    if (index > 255) throw invalid();
                }
                if (index >= argCount) {
                    throw EvalFailure{
                        "The following format string references more arguments than were "
                        "supplied: '" +
                            fmt + "'",
                        n.pos};
                }
                out.append(fmt, i, lbrace - i);
                if (!cache[index]) cache[index] = displayString(eval(*n.args[index + 1]));
                out += *cache[index];
                if (used_ + out.size() > kMaxMemoryBytes) charge(out.size(), n.pos);
                i = j + 1;
            } else if (rbrace != std::string::npos) {
                if (rbrace + 1 < fmt.size() && fmt[rbrace + 1] == '}') {  // "}}"
                    out.append(fmt, i, rbrace - i + 1);
                    i = rbrace + 2;
                    continue;
                }
                throw invalid();
            } else {
                out.append(fmt, i, std::string::npos);
                break;
            }
        }
        charge(out.size(), n.pos);
        return owned(std::move(out));
    }

    Res fromJson(const Node& n) {
        std::string text = displayString(eval(*n.args[0]));
        charge(text.size() * 2, n.pos);
        auto limitDepth = [&](int depth, Value::parse_event_t, Value&) {
            if (static_cast<size_t>(depth) >= kMaxJsonDepth) {
                throw EvalFailure{"fromJSON: the JSON nests deeper than " +
                                      std::to_string(kMaxJsonDepth) + " levels",
                                  n.pos};
            }
            return true;
        };
        try {
            Value v = Value::parse(text, limitDepth);
            normalizeNumbers(v);
            return owned(std::move(v));
        } catch (const Value::exception& e) {
            std::string shown = text.size() > 80 ? text.substr(0, 80) + "..." : text;
            throw EvalFailure{"fromJSON: the argument is not valid JSON ('" + shown + "'): " +
                                  e.what(),
                              n.pos};
        }
    }

    Res hashFilesCall(const Node& n) {
        if (ctx_.workspace.empty()) {
            throw EvalFailure{"hashFiles is not available here: there is no workspace", n.pos};
        }
        std::vector<std::string> patterns;
        for (const auto& a : n.args) patterns.push_back(displayString(eval(*a)));
        try {
            return owned(hashFiles(ctx_.workspace, patterns));
        } catch (const base::Error& e) {
            throw EvalFailure{e.what(), n.pos};
        }
    }

    const EvalContext& ctx_;
    size_t used_ = 0;
};

}  // namespace

ParseOptions parseOptionsFor(const EvalContext& ctx) {
    ParseOptions o;
    const Value* contexts = &ctx.contexts;
    o.isNamedValue = [contexts](std::string_view name) {
        return findKeyIgnoreCase(*contexts, name) != nullptr;
    };
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
