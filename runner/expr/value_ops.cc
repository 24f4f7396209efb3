// Actions' value rules, modelled on the runner's EvaluationResult and ExpressionUtility.
#include "runner/expr/value_ops.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace nixjail::runner::expr {
namespace {

bool isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
    while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
    return s;
}

char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// [+-]digits[.digits][(e|E)[+-]digits] with at least one mantissa digit; ".5" and "5." allowed.
bool isDecimal(std::string_view s) {
    size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t digits = 0;
    while (i < s.size() && isDigit(s[i])) ++i, ++digits;
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && isDigit(s[i])) ++i, ++digits;
    }
    if (digits == 0) return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        size_t expDigits = 0;
        while (i < s.size() && isDigit(s[i])) ++i, ++expDigits;
        if (expDigits == 0) return false;
    }
    return i == s.size();
}

// Parses digits in `base` into a 32-bit pattern reinterpreted as signed, as .NET's Int32 parsing
// of hex/octal does; NaN when the value needs more than 32 bits.
double parseInt32Bits(std::string_view digits, int base) {
    uint64_t value = 0;
    for (char c : digits) {
        int d = isDigit(c) ? c - '0' : (upper(c) - 'A' + 10);
        value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
        if (value > 0xffffffffULL) return std::numeric_limits<double>::quiet_NaN();
    }
    return static_cast<double>(static_cast<int32_t>(static_cast<uint32_t>(value)));
}

}  // namespace

Kind kindOf(const Value& v) {
    switch (v.type()) {
        case Value::value_t::null:
        case Value::value_t::discarded:
            return Kind::Null;
        case Value::value_t::boolean:
            return Kind::Boolean;
        case Value::value_t::number_integer:
        case Value::value_t::number_unsigned:
        case Value::value_t::number_float:
            return Kind::Number;
        case Value::value_t::string:
            return Kind::String;
        case Value::value_t::array:
            return Kind::Array;
        case Value::value_t::object:
        case Value::value_t::binary:
            return Kind::Object;
    }
    return Kind::Object;
}

bool isPrimitive(Kind k) { return k != Kind::Array && k != Kind::Object; }

double parseNumber(std::string_view raw) {
    std::string_view s = trim(raw);
    if (s.empty()) return 0.0;
    if (isDecimal(s)) {
        std::string copy(s);
        return std::strtod(copy.c_str(), nullptr);  // overflow gives +-inf, underflow 0
    }
    if (s.size() > 2 && s[0] == '0' && s[1] == 'x') {
        std::string_view digits = s.substr(2);
        for (char c : digits) {
            if (!std::isxdigit(static_cast<unsigned char>(c))) {
                return std::numeric_limits<double>::quiet_NaN();
            }
        }
        return parseInt32Bits(digits, 16);
    }
    if (s.size() > 2 && s[0] == '0' && s[1] == 'o') {
        std::string_view digits = s.substr(2);
        for (char c : digits) {
            if (c < '0' || c > '7') return std::numeric_limits<double>::quiet_NaN();
        }
        return parseInt32Bits(digits, 8);
    }
    // .NET accepts the infinity symbol with an optional sign, ignoring case.
    std::string_view body = s;
    bool negative = false;
    if (body.front() == '+' || body.front() == '-') {
        negative = body.front() == '-';
        body.remove_prefix(1);
    }
    if (equalsIgnoreCase(body, "infinity")) {
        return negative ? -std::numeric_limits<double>::infinity()
                        : std::numeric_limits<double>::infinity();
    }
    return std::numeric_limits<double>::quiet_NaN();
}

double toNumber(const Value& v) {
    switch (kindOf(v)) {
        case Kind::Null:
            return 0.0;
        case Kind::Boolean:
            return v.get<bool>() ? 1.0 : 0.0;
        case Kind::Number:
            return v.get<double>();
        case Kind::String:
            return parseNumber(v.get_ref<const std::string&>());
        default:
            return std::numeric_limits<double>::quiet_NaN();
    }
}

std::string formatNumber(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    if (d == 0.0) return std::signbit(d) ? "-0" : "0";

    // 15 significant digits: "-d.dddddddddddddde+XXX".
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.14e", d);
    std::string s(buf);
    size_t e = s.find('e');
    int exponent = std::atoi(s.c_str() + e + 1);
    bool negative = s[0] == '-';
    std::string digits;
    for (size_t i = negative ? 1 : 0; i < e; ++i) {
        if (isDigit(s[i])) digits += s[i];
    }
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();

    std::string out = negative ? "-" : "";
    if (exponent > -5 && exponent < 15) {
        if (exponent < 0) {
            out += "0.";
            out.append(static_cast<size_t>(-exponent - 1), '0');
            out += digits;
        } else {
            size_t intDigits = static_cast<size_t>(exponent) + 1;
            if (digits.size() <= intDigits) {
                out += digits;
                out.append(intDigits - digits.size(), '0');
            } else {
                out += digits.substr(0, intDigits);
                out += '.';
                out += digits.substr(intDigits);
            }
        }
        return out;
    }
    out += digits[0];
    if (digits.size() > 1) {
        out += '.';
        out += digits.substr(1);
    }
    char expBuf[16];
    std::snprintf(expBuf, sizeof expBuf, "E%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    out += expBuf;
    return out;
}

int compareIgnoreCase(std::string_view a, std::string_view b) {
    size_t n = std::min(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) {
        auto ca = static_cast<unsigned char>(upper(a[i]));
        auto cb = static_cast<unsigned char>(upper(b[i]));
        if (ca != cb) return ca < cb ? -1 : 1;
    }
    if (a.size() == b.size()) return 0;
    return a.size() < b.size() ? -1 : 1;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && compareIgnoreCase(a, b) == 0;
}

size_t findIgnoreCase(std::string_view haystack, std::string_view needle) {
    if (needle.empty()) return 0;
    if (needle.size() > haystack.size()) return std::string_view::npos;
    for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
        if (equalsIgnoreCase(haystack.substr(i, needle.size()), needle)) return i;
    }
    return std::string_view::npos;
}

const Value* findKeyIgnoreCase(const Value& object, std::string_view key) {
    if (!object.is_object()) return nullptr;
    auto exact = object.find(std::string(key));
    if (exact != object.end()) return &*exact;
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (equalsIgnoreCase(it.key(), key)) return &*it;
    }
    return nullptr;
}

}  // namespace nixjail::runner::expr
