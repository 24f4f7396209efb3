// The built-in functions: contains, startsWith, endsWith, format, join, toJSON, fromJSON,
// hashFiles, case and the status functions, with the runner's conversions and error messages.
#include <nlohmann/json.hpp>
#include <optional>

#include "runner/base/error.h"
#include "runner/expr/eval_result.h"
#include "runner/expr/hash_files.h"
#include "runner/expr/json_text.h"

namespace nixjail::runner::expr {
namespace {

constexpr size_t kMaxJsonDepth = 64;  // Newtonsoft.Json's default MaxDepth, which fromJSON hits

Res contains(Evaluator& ev, const Node& n) {
    Res haystack = ev.eval(*n.args[0]);
    if (isPrimitive(haystack.kind())) {
        Res needle = ev.eval(*n.args[1]);
        if (!isPrimitive(needle.kind())) return boolean(false);
        return boolean(findIgnoreCase(toDisplayString(*haystack.v), toDisplayString(*needle.v)) !=
                       std::string::npos);
    }
    if (haystack.isArray()) {
        Res needle = ev.eval(*n.args[1]);
        for (size_t i = 0; i < haystack.size(); ++i) {
            if (looseEqual(haystack.at(i), needle)) return boolean(true);
        }
    }
    return boolean(false);
}

Res join(Evaluator& ev, const Node& n) {
    Res items = ev.eval(*n.args[0]);
    if (items.isArray() && items.size() > 0) {
        std::string separator = ",";
        if (items.size() > 1 && n.args.size() > 1) {
            Res sep = ev.eval(*n.args[1]);
            if (isPrimitive(sep.kind())) separator = toDisplayString(*sep.v);
        }
        std::string out;
        for (size_t i = 0; i < items.size(); ++i) {
            if (i > 0) out += separator;
            out += displayString(items.at(i));
            if (ev.wouldExceed(out.size())) ev.charge(out.size(), n.pos);
        }
        ev.charge(out.size(), n.pos);
        return owned(std::move(out));
    }
    if (isPrimitive(items.kind())) return owned(toDisplayString(*items.v));
    return owned(std::string());
}

Res format(Evaluator& ev, const Node& n) {
    std::string fmt = displayString(ev.eval(*n.args[0]));
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
            if (!cache[index]) cache[index] = displayString(ev.eval(*n.args[index + 1]));
            out += *cache[index];
            if (ev.wouldExceed(out.size())) ev.charge(out.size(), n.pos);
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
    ev.charge(out.size(), n.pos);
    return owned(std::move(out));
}

Res fromJson(Evaluator& ev, const Node& n) {
    std::string text = displayString(ev.eval(*n.args[0]));
    ev.charge(text.size() * 2, n.pos);
    auto limitDepth = [&](int depth, Value::parse_event_t, Value&) {
        if (static_cast<size_t>(depth) >= kMaxJsonDepth) {
            throw EvalFailure{
                "fromJSON: the JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels",
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
        throw EvalFailure{"fromJSON: the argument is not valid JSON ('" + shown + "'): " + e.what(),
                          n.pos};
    }
}

// case(pred1, val1, pred2, val2, ..., default): the value after the first true predicate, else
// the default. Only the chosen value is evaluated, and, as in GitHub's runner, the count must be
// odd and each predicate a boolean (not merely truthy), checked as evaluation reaches them.
Res caseCall(Evaluator& ev, const Node& n) {
    if (n.args.size() % 2 == 0) {
        throw EvalFailure{"case requires an odd number of arguments", n.pos};
    }
    for (size_t i = 0; i + 1 < n.args.size(); i += 2) {
        Res predicate = ev.eval(*n.args[i]);
        if (predicate.kind() != Kind::Boolean) {
            throw EvalFailure{"case predicate must evaluate to a boolean value", n.args[i]->pos};
        }
        if (predicate.v->get<bool>()) return ev.eval(*n.args[i + 1]);
    }
    return ev.eval(*n.args.back());
}

Res hashFilesCall(Evaluator& ev, const Node& n) {
    if (ev.context().workspace.empty()) {
        throw EvalFailure{"hashFiles is not available here: there is no workspace", n.pos};
    }
    std::vector<std::string> patterns;
    for (const auto& a : n.args) patterns.push_back(displayString(ev.eval(*a)));
    try {
        return owned(hashFiles(ev.context().workspace, patterns));
    } catch (const base::Error& e) {
        throw EvalFailure{e.what(), n.pos};
    }
}

}  // namespace

Res callFunction(Evaluator& ev, const Node& n) {
    switch (n.function) {
        case Function::Contains:
            return contains(ev, n);
        case Function::StartsWith:
        case Function::EndsWith: {
            Res a = ev.eval(*n.args[0]);
            Res b = ev.eval(*n.args[1]);
            if (!isPrimitive(a.kind()) || !isPrimitive(b.kind())) return boolean(false);
            std::string s = toDisplayString(*a.v), part = toDisplayString(*b.v);
            if (part.size() > s.size()) return boolean(false);
            size_t at = n.function == Function::StartsWith ? 0 : s.size() - part.size();
            return boolean(equalsIgnoreCase(std::string_view(s).substr(at, part.size()), part));
        }
        case Function::Format:
            return format(ev, n);
        case Function::Join:
            return join(ev, n);
        case Function::ToJson: {
            Res a = ev.eval(*n.args[0]);
            std::string text = a.filtered ? toJsonText(*a.filtered) : toJsonText(*a.v);
            ev.charge(text.size(), n.pos);
            return owned(std::move(text));
        }
        case Function::FromJson:
            return fromJson(ev, n);
        case Function::HashFiles:
            return hashFilesCall(ev, n);
        case Function::Case:
            return caseCall(ev, n);
        case Function::Success:
            return boolean(ev.context().success && ev.context().success());
        case Function::Failure:
            return boolean(ev.context().failure && ev.context().failure());
        case Function::Cancelled:
            return boolean(ev.context().cancelled && ev.context().cancelled());
        case Function::Always:
            return boolean(true);
        case Function::Unknown:
            break;
    }
    throw EvalFailure{"Unrecognized function: '" + n.name + "'", n.pos};
}

}  // namespace nixjail::runner::expr
