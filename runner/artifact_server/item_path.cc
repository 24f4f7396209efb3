// Path checks for the artifact server: a whitelist of shapes, not a normaliser, so that what is
// stored is exactly what the client named.
#include "runner/artifact_server/item_path.h"

#include <fmt/format.h>

namespace nixjail::runner::artifact_server {

namespace {

constexpr std::size_t kMaxPath = 1024;
constexpr std::size_t kMaxComponent = 255;

bool goodComponent(std::string_view c) {
    if (c.empty() || c == "." || c == ".." || c.size() > kMaxComponent) return false;
    for (unsigned char ch : c) {
        if (ch < 0x20 || ch == 0x7f || ch == '\\') return false;
    }
    return true;
}

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::optional<std::string> cleanItemPath(std::string_view raw) {
    if (raw.empty() || raw.size() > kMaxPath || raw.front() == '/') return std::nullopt;
    for (std::string_view rest = raw;;) {
        const auto slash = rest.find('/');
        if (!goodComponent(rest.substr(0, slash))) return std::nullopt;
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
    }
    return std::string(raw);
}

bool isSafeName(std::string_view name) {
    return name.find('/') == std::string_view::npos && cleanItemPath(name).has_value();
}

std::optional<std::string> percentDecode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        if (i + 2 >= in.size()) return std::nullopt;
        const int hi = hexValue(in[i + 1]), lo = hexValue(in[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

std::string percentEncodePath(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (unsigned char c : in) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' ||
                           c == '/';
        if (plain)
            out += static_cast<char>(c);
        else
            out += fmt::format("%{:02X}", c);
    }
    return out;
}

}  // namespace nixjail::runner::artifact_server
