// parseBlockList: a whitelist scanner for the one XML shape the Azure SDK produces.
#include "runner/artifact_server/block_list.h"

namespace nixjail::runner::artifact_server {

namespace {

void skipSpace(std::string_view& s) {
    while (!s.empty() &&
           (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
        s.remove_prefix(1);
}

bool take(std::string_view& s, std::string_view prefix) {
    if (!s.starts_with(prefix)) return false;
    s.remove_prefix(prefix.size());
    return true;
}

}  // namespace

std::optional<std::vector<std::string>> parseBlockList(std::string_view xml) {
    std::string_view s = xml;
    if (s.starts_with("\xEF\xBB\xBF")) s.remove_prefix(3);  // a UTF-8 byte order mark
    skipSpace(s);
    if (take(s, "<?xml")) {
        const auto end = s.find("?>");
        if (end == std::string_view::npos) return std::nullopt;
        s.remove_prefix(end + 2);
        skipSpace(s);
    }
    if (!take(s, "<BlockList>")) return std::nullopt;
    std::vector<std::string> ids;
    for (;;) {
        skipSpace(s);
        if (take(s, "</BlockList>")) break;
        std::string_view tag;
        for (std::string_view t : {"Latest", "Committed", "Uncommitted"}) {
            if (s.starts_with("<" + std::string(t) + ">")) tag = t;
        }
        if (tag.empty()) return std::nullopt;
        s.remove_prefix(tag.size() + 2);
        const auto end = s.find('<');
        if (end == std::string_view::npos) return std::nullopt;
        const std::string_view id = s.substr(0, end);
        for (char c : id) {
            if (c == '&' || c == '>' || static_cast<unsigned char>(c) < 0x20) return std::nullopt;
        }
        s.remove_prefix(end);
        if (!take(s, "</" + std::string(tag) + ">") || id.empty()) return std::nullopt;
        ids.emplace_back(id);
    }
    skipSpace(s);
    if (!s.empty()) return std::nullopt;
    return ids;
}

}  // namespace nixjail::runner::artifact_server
