// @actions/glob-compatible matching; see glob_pattern.h.
#include "runner/expr/glob_pattern.h"

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

bool hasGlob(std::string_view segment) {
    for (size_t i = 0; i < segment.size(); ++i) {
        char c = segment[i];
        if (c == '\\') {
            ++i;
        } else if (c == '*' || c == '?' || c == '[') {
            return true;
        }
    }
    return false;
}

std::string unescape(std::string_view segment) {
    std::string out;
    for (size_t i = 0; i < segment.size(); ++i) {
        if (segment[i] == '\\' && i + 1 < segment.size()) ++i;
        out += segment[i];
    }
    return out;
}

// Matches a bracket expression starting at pattern[p] == '['. Returns the index after ']' or npos
// when the bracket is not closed (then '[' is literal).
size_t matchClass(std::string_view pattern, size_t p, char c, bool& matched) {
    size_t i = p + 1;
    bool negate = false;
    if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
        negate = true;
        ++i;
    }
    bool any = false;
    bool first = true;
    while (i < pattern.size() && (first || pattern[i] != ']')) {
        first = false;
        char lo = pattern[i];
        if (lo == '\\' && i + 1 < pattern.size()) lo = pattern[++i];
        char hi = lo;
        if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
            hi = pattern[i + 2];
            if (hi == '\\' && i + 3 < pattern.size()) {
                hi = pattern[i + 3];
                ++i;
            }
            i += 2;
        }
        if (static_cast<unsigned char>(c) >= static_cast<unsigned char>(lo) &&
            static_cast<unsigned char>(c) <= static_cast<unsigned char>(hi)) {
            any = true;
        }
        ++i;
    }
    if (i >= pattern.size()) return std::string_view::npos;
    matched = any != negate;
    return i + 1;
}

// Dynamic programming over segments; `**` matches zero or more segments.
bool matchFrom(const std::vector<std::string>& pat, const std::vector<std::string>& path,
               bool prefixOnly) {
    size_t P = pat.size(), S = path.size();
    // ok[p][s]: pat[p..] matches path[s..] (or, with prefixOnly, path[s..] can be extended to).
    std::vector<std::vector<char>> ok(P + 1, std::vector<char>(S + 1, 0));
    for (size_t p = P + 1; p-- > 0;) {
        for (size_t s = S + 1; s-- > 0;) {
            bool v;
            if (s == S && prefixOnly) {
                v = p < P;
            } else if (p == P) {
                v = s == S;
            } else if (pat[p] == "**") {
                v = ok[p + 1][s] || (s < S && ok[p][s + 1]) || (prefixOnly && s <= S);
            } else {
                v = s < S && matchSegment(pat[p], path[s]) && ok[p + 1][s + 1];
            }
            ok[p][s] = v;
        }
    }
    return ok[0][0];
}

}  // namespace

std::vector<std::string> splitPath(std::string_view path) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i <= path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        std::string_view seg = path.substr(i, j - i);
        if (seg == "..") {
            if (!out.empty()) out.pop_back();
        } else if (!seg.empty() && seg != ".") {
            out.emplace_back(seg);
        }
        i = j + 1;
    }
    return out;
}

bool matchSegment(std::string_view pattern, std::string_view name) {
    size_t p = 0, n = 0;
    size_t starP = std::string_view::npos, starN = 0;
    while (n < name.size()) {
        if (p < pattern.size()) {
            char c = pattern[p];
            if (c == '*') {
                starP = ++p;
                starN = n;
                continue;
            }
            if (c == '?') {
                ++p;
                ++n;
                continue;
            }
            if (c == '[') {
                bool matched = false;
                size_t after = matchClass(pattern, p, name[n], matched);
                if (after != std::string_view::npos) {
                    if (matched) {
                        p = after;
                        ++n;
                        continue;
                    }
                } else if (name[n] == '[') {
                    ++p;
                    ++n;
                    continue;
                }
            } else {
                size_t advance = 1;
                if (c == '\\' && p + 1 < pattern.size()) {
                    c = pattern[p + 1];
                    advance = 2;
                }
                if (c == name[n]) {
                    p += advance;
                    ++n;
                    continue;
                }
            }
        }
        if (starP == std::string_view::npos) return false;
        p = starP;
        n = ++starN;
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

std::vector<GlobPattern> parseGlobPatterns(const std::vector<std::string>& patterns,
                                           const std::vector<std::string>& cwd) {
    std::vector<GlobPattern> out;
    for (const auto& arg : patterns) {
        size_t i = 0;
        while (i <= arg.size()) {
            size_t j = arg.find('\n', i);
            if (j == std::string::npos) j = arg.size();
            std::string_view line = trim(std::string_view(arg).substr(i, j - i));
            i = j + 1;
            if (line.empty() || line.front() == '#') continue;
            GlobPattern g;
            while (!line.empty() && line.front() == '!') {
                g.negate = !g.negate;
                line.remove_prefix(1);
                line = trim(line);
            }
            if (line.empty()) continue;
            if (line.front() == '~') continue;  // home directories are never in the workspace
            g.directoryOnly = line.back() == '/';
            if (line.front() == '/') {
                g.segments = splitPath(line);
            } else {
                std::string joined;
                for (const auto& s : cwd) joined += "/" + s;
                joined += "/";
                joined += line;
                g.segments = splitPath(joined);
            }
            bool addDescendants =
                g.directoryOnly || g.segments.empty() || g.segments.back() != "**";
            GlobPattern descendants;
            if (addDescendants) {
                descendants.negate = g.negate;
                descendants.segments = g.segments;
                descendants.segments.push_back("*");  // at least one more segment
                descendants.segments.push_back("**");
            }
            out.push_back(std::move(g));
            if (addDescendants) out.push_back(std::move(descendants));
        }
    }
    return out;
}

bool matchPath(const GlobPattern& pattern, const std::vector<std::string>& path) {
    return matchFrom(pattern.segments, path, false);
}

bool couldMatchBelow(const GlobPattern& pattern, const std::vector<std::string>& path) {
    return matchFrom(pattern.segments, path, true);
}

bool selectsFile(const std::vector<GlobPattern>& patterns, const std::vector<std::string>& path) {
    bool selected = false;
    for (const auto& p : patterns) {
        if (p.directoryOnly) continue;  // such a pattern never matches a file itself
        if (p.negate) {
            if (selected && matchPath(p, path)) selected = false;
        } else if (!selected && matchPath(p, path)) {
            selected = true;
        }
    }
    return selected;
}

std::vector<std::string> searchRoot(const GlobPattern& pattern) {
    std::vector<std::string> root;
    for (const auto& s : pattern.segments) {
        if (hasGlob(s)) break;
        root.push_back(unescape(s));
    }
    // A pattern without globs names a path; its walk starts at that path's parent.
    if (root.size() == pattern.segments.size() && !root.empty()) root.pop_back();
    return root;
}

}  // namespace nixjail::runner::expr
