// Percent-encoding, as URL query values and the masker's URL form of a secret need it.
#include "runner/base/percent_encoding.h"

#include <cctype>

namespace nixjail::base {

std::string percentEncoded(std::string_view text) {
    static constexpr const char* kHex = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

}  // namespace nixjail::base
