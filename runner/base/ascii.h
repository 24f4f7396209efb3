// ASCII case folding for names compared case-insensitively (Actions inputs and action refs,
// HTTP header names, git's reserved file names).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace nixjail::base {

inline char asciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string asciiLower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](char c) { return asciiLower(c); });
    return s;
}

inline bool asciiEqualsIgnoreCase(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](char x, char y) { return asciiLower(x) == asciiLower(y); });
}

}  // namespace nixjail::base
