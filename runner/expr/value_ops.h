// Actions' value rules: truthiness, string <-> number conversion and the loose comparisons.
#pragma once

#include <string>
#include <string_view>

#include "runner/expr/expr.h"

namespace nixjail::runner::expr {

enum class Kind { Null, Boolean, Number, String, Array, Object };

Kind kindOf(const Value& v);
bool isPrimitive(Kind k);

// Follows JavaScript's Number(): trims whitespace, "" -> 0, decimal with exponent, 0x (32-bit),
// 0o, Infinity; anything else NaN.
double parseNumber(std::string_view s);

// null -> 0, bool -> 0/1, number, string via parseNumber, array/object -> NaN.
double toNumber(const Value& v);

// .NET's "G15": 15 significant digits, scientific (1E+15, 1E-05) outside 1e-5 .. 1e15.
std::string formatNumber(double d);

// Case-insensitive (ASCII) ordinal comparison: <0, 0, >0.
int compareIgnoreCase(std::string_view a, std::string_view b);
bool equalsIgnoreCase(std::string_view a, std::string_view b);
// Byte offset of needle in haystack ignoring ASCII case, or npos.
size_t findIgnoreCase(std::string_view haystack, std::string_view needle);

// Looks up an object key exactly first, then ignoring case; nullptr when absent.
const Value* findKeyIgnoreCase(const Value& object, std::string_view key);

}  // namespace nixjail::runner::expr
