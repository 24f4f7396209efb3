// Internal to runner/expr: the evaluator's result type and what the functions need from it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runner/expr/ast.h"
#include "runner/expr/evaluator.h"
#include "runner/expr/value_ops.h"

namespace nixjail::runner::expr {

// An evaluation failure at a node; turned into an ExprError at the API boundary.
struct EvalFailure {
    std::string message;
    size_t pos;
};

const Value& nullValue();

// The result of evaluating a node. Values from the contexts are borrowed, not copied, so `==` on
// objects and arrays can compare identity as Actions does; `.*` filters are lists of pointers.
struct Res {
    const Value* v = &nullValue();       // nullptr for a filtered array
    std::shared_ptr<const Value> owner;  // keeps v (and filtered items) alive when not borrowed
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

Res owned(Value value);
Res boolean(bool b);
Res borrowed(const Value* v, const Res& parent);
std::string displayString(const Res& r);
bool truthy(const Res& r);

// Actions' loose comparisons (JavaScript's abstract comparison without object-to-primitive).
bool looseEqual(const Res& a, const Res& b);
bool looseGreater(const Res& a, const Res& b);

class Evaluator {
  public:
    explicit Evaluator(const EvalContext& ctx) : ctx_(ctx) {}

    Res eval(const Node& n);
    // Counts bytes produced; throws EvalFailure past kMaxMemoryBytes.
    void charge(size_t bytes, size_t pos);
    // Whether `more` bytes on top of what was used would exceed the limit.
    bool wouldExceed(size_t more) const { return used_ + more > kMaxMemoryBytes; }
    const EvalContext& context() const { return ctx_; }

  private:
    Res compare(const Node& n);
    Res index(const Node& n);
    Res filteredOf(const Res& parent);
    void push(Res& filtered, const Value* item, size_t pos);

    const EvalContext& ctx_;
    size_t used_ = 0;
};

// Converts numbers (possibly integers, from the contexts) to doubles throughout a value.
void normalizeNumbers(Value& v, size_t depth = 0);

// Built-in functions (functions.cc).
Res callFunction(Evaluator& ev, const Node& n);

}  // namespace nixjail::runner::expr
