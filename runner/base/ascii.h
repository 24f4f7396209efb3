// ASCII case folding for names Actions compares case-insensitively (inputs, action refs).
#pragma once

#include <algorithm>
#include <string>

namespace nixjail::base {

inline std::string asciiLower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c); });
    return s;
}

}  // namespace nixjail::base
