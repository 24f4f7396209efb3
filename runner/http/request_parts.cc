// Query, Content-Range and Range parsing for the runner's HTTP services.
#include "runner/http/request_parts.h"

#include <charconv>

namespace nixjail::runner::http {

namespace {

std::optional<std::uint64_t> number(std::string_view s) {
    std::uint64_t v = 0;
    if (s.empty()) return std::nullopt;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<std::string> percentDecode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%') {
            if (i + 2 >= s.size()) return std::nullopt;
            int hi = hexValue(s[i + 1]), lo = hexValue(s[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

}  // namespace

std::optional<std::string> queryParam(std::string_view target, std::string_view name) {
    auto q = target.find('?');
    if (q == std::string_view::npos) return std::nullopt;
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        auto amp = rest.find('&');
        std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
        auto eq = pair.find('=');
        if (pair.substr(0, eq) != name) continue;
        return percentDecode(eq == std::string_view::npos ? std::string_view()
                                                          : pair.substr(eq + 1));
    }
    return std::nullopt;
}

std::optional<ByteRange> parseContentRange(std::string_view value) {
    if (!value.starts_with("bytes ")) return std::nullopt;
    value.remove_prefix(6);
    auto dash = value.find('-'), slash = value.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash)
        return std::nullopt;
    auto a = number(value.substr(0, dash)), b = number(value.substr(dash + 1, slash - dash - 1));
    std::string_view total = value.substr(slash + 1);
    if (!a || !b || *b < *a || (total != "*" && !number(total))) return std::nullopt;
    if (total != "*" && *number(total) <= *b) return std::nullopt;
    return ByteRange{*a, *b};
}

std::optional<ByteRange> parseRange(std::string_view value, std::uint64_t size) {
    if (!value.starts_with("bytes=") || value.find(',') != std::string_view::npos || size == 0)
        return std::nullopt;
    value.remove_prefix(6);
    auto dash = value.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    std::string_view first = value.substr(0, dash), last = value.substr(dash + 1);
    if (first.empty()) {  // suffix range: the last n bytes
        auto n = number(last);
        if (!n || *n == 0) return std::nullopt;
        return ByteRange{*n >= size ? 0 : size - *n, size - 1};
    }
    auto a = number(first);
    if (!a || *a >= size) return std::nullopt;
    if (last.empty()) return ByteRange{*a, size - 1};
    auto b = number(last);
    if (!b || *b < *a) return std::nullopt;
    return ByteRange{*a, std::min(*b, size - 1)};
}

}  // namespace nixjail::runner::http
