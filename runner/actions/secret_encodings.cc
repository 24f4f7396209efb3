// Encoded forms of a secret for masking (see secret_encodings.h).
#include "runner/actions/secret_encodings.h"

#include <algorithm>
#include <cctype>

#include "runner/base/base64.h"
#include "runner/base/percent_encoding.h"

namespace nixjail::runner::actions {

namespace {

constexpr std::size_t kShortestBase64Fragment = 6;

std::string jsonEscaped(std::string_view v) {
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (unsigned char c : v) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out += kHex[c >> 4];
                    out += kHex[c & 15];
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out;
}

std::string xmlEscaped(std::string_view v) {
    std::string out;
    for (char c : v) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default: out += c;
        }
    }
    return out;
}

// Inside an expression's single-quoted string a quote is written twice.
std::string expressionEscaped(std::string_view v) {
    std::string out;
    for (char c : v) {
        out += c;
        if (c == '\'') out += '\'';
    }
    return out;
}

}  // namespace

std::string base64Core(std::string_view value, int offset) {
    // Character j of a base64 stream holds bits [6j, 6j + 6) of the bytes; the value holds bits
    // [8 * offset, 8 * (offset + size)). The characters wholly inside that range are the core.
    std::string padded(static_cast<std::size_t>(offset), '\0');
    padded.append(value);
    padded.append(2, '\0');
    const std::string encoded = base::base64Encode(padded);
    const std::size_t first = (8 * static_cast<std::size_t>(offset) + 5) / 6;
    const std::size_t end = 8 * (static_cast<std::size_t>(offset) + value.size()) / 6;
    return end > first ? encoded.substr(first, end - first) : std::string();
}

std::vector<std::string> secretEncodings(std::string_view value) {
    std::vector<std::string> out;
    auto keep = [&](std::string form) {
        if (form.empty() || form == value) return;
        if (std::find(out.begin(), out.end(), form) == out.end()) out.push_back(std::move(form));
    };
    keep(jsonEscaped(value));
    keep(base::percentEncoded(value));
    keep(xmlEscaped(value));
    keep(expressionEscaped(value));
    const std::string whole = base::base64Encode(value);
    if (whole.size() >= kShortestBase64Fragment) keep(whole);
    for (int offset = 0; offset < 3; ++offset) {
        std::string core = base64Core(value, offset);
        if (core.size() >= kShortestBase64Fragment) keep(std::move(core));
    }
    return out;
}

}  // namespace nixjail::runner::actions
