// Actions' loose equality and ordering, following the runner's EvaluationResult: mismatched
// types are converted to numbers, strings compare ignoring case, NaN equals nothing, and arrays
// and objects are equal only to themselves.
#include <limits>

#include "runner/expr/eval_result.h"

namespace nixjail::runner::expr {
namespace {

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

}  // namespace

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

}  // namespace nixjail::runner::expr
