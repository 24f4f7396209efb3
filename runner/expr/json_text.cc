// toJSON's pretty printer; see json_text.h.
#include "runner/expr/json_text.h"

#include <cstdio>

#include "runner/expr/value_ops.h"

namespace nixjail::runner::expr {
namespace {

void appendScalar(std::string& out, const Value& v) {
    switch (kindOf(v)) {
        case Kind::Null:
            out += "null";
            break;
        case Kind::Boolean:
            out += v.get<bool>() ? "true" : "false";
            break;
        case Kind::Number:
            out += formatNumber(v.get<double>());
            break;
        case Kind::String:
            out += quoteJsonString(v.get_ref<const std::string&>());
            break;
        default:
            out += "{}";  // not reached: containers are walked by the caller
            break;
    }
}

void newline(std::string& out, size_t level) {
    out += '\n';
    out.append(level * 2, ' ');
}

// One open container: either a Value (array or object) or the top-level pointer list.
struct Frame {
    const Value* container = nullptr;
    Value::const_iterator it;
    const std::vector<const Value*>* items = nullptr;
    size_t index = 0;
    bool first = true;
};

bool isEmptyContainer(const Value& v) { return v.empty(); }

std::string write(const Value* root, const std::vector<const Value*>* rootItems) {
    std::string out;
    std::vector<Frame> stack;

    // Writes a value; opens a frame for a non-empty container.
    auto open = [&](const Value& v) {
        Kind k = kindOf(v);
        if (k == Kind::Array || k == Kind::Object) {
            if (isEmptyContainer(v)) {
                out += k == Kind::Array ? "[]" : "{}";
                return;
            }
            out += k == Kind::Array ? '[' : '{';
            Frame f;
            f.container = &v;
            f.it = v.cbegin();
            stack.push_back(f);
            return;
        }
        appendScalar(out, v);
    };

    if (rootItems) {
        if (rootItems->empty()) return "[]";
        out += '[';
        Frame f;
        f.items = rootItems;
        stack.push_back(f);
    } else {
        open(*root);
    }

    while (!stack.empty()) {
        Frame& f = stack.back();
        const Value* next = nullptr;
        std::string key;
        bool isObject = false;
        if (f.items) {
            if (f.index < f.items->size()) next = (*f.items)[f.index++];
        } else if (f.it != f.container->cend()) {
            isObject = f.container->is_object();
            if (isObject) key = f.it.key();
            next = &*f.it;
            ++f.it;
        }
        size_t level = stack.size();
        if (!next) {
            bool array = f.items || f.container->is_array();
            stack.pop_back();
            newline(out, level - 1);
            out += array ? ']' : '}';
            continue;
        }
        if (!f.first) out += ',';
        f.first = false;
        newline(out, level);
        if (isObject) {
            out += quoteJsonString(key);
            out += ": ";
        }
        open(*next);  // may push, invalidating `f`
    }
    return out;
}

}  // namespace

std::string quoteJsonString(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        switch (c) {
            case '"':
                out += "\\\"";
                continue;
            case '\\':
                out += "\\\\";
                continue;
            case '\n':
                out += "\\n";
                continue;
            case '\r':
                out += "\\r";
                continue;
            case '\t':
                out += "\\t";
                continue;
            case '\b':
                out += "\\b";
                continue;
            case '\f':
                out += "\\f";
                continue;
            default:
                break;
        }
        if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
            continue;
        }
        // Newtonsoft also escapes U+0085, U+2028 and U+2029.
        if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) {
            out += "\\u0085";
            ++i;
            continue;
        }
        if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80) {
            auto c2 = static_cast<unsigned char>(s[i + 2]);
            if (c2 == 0xA8 || c2 == 0xA9) {
                out += c2 == 0xA8 ? "\\u2028" : "\\u2029";
                i += 2;
                continue;
            }
        }
        out += static_cast<char>(c);
    }
    out += '"';
    return out;
}

std::string toJsonText(const Value& v) { return write(&v, nullptr); }

std::string toJsonText(const std::vector<const Value*>& items) { return write(nullptr, &items); }

}  // namespace nixjail::runner::expr
