// hashFiles' patterns in the dialect of @actions/glob (which the Actions runner uses): one pattern
// per line, `#` comments, leading `!` negates, `*` `?` `[...]` within a segment, `**` across
// segments, dot files matched, a trailing `/` matches directories only, and a pattern that matches
// a directory also matches everything below it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nixjail::runner::expr {

struct GlobPattern {
    bool negate = false;
    bool directoryOnly = false;         // written with a trailing '/'
    std::vector<std::string> segments;  // absolute: "/a/*/b" -> {"a", "*", "b"}
};

// Parses the patterns (each may hold several lines), rooting relative ones at `cwd` (absolute,
// normalized). The result includes the implicit "<pattern>/*/**" descendants patterns, in order.
std::vector<GlobPattern> parseGlobPatterns(const std::vector<std::string>& patterns,
                                           const std::vector<std::string>& cwd);

// Splits an absolute path into segments, dropping "." and resolving "..".
std::vector<std::string> splitPath(std::string_view path);

// One segment against one glob segment (no '/').
bool matchSegment(std::string_view pattern, std::string_view name);

// Whether the path (segments) matches the pattern completely.
bool matchPath(const GlobPattern& pattern, const std::vector<std::string>& path);

// Whether something below the path could match (used to prune the walk; may say yes too often).
bool couldMatchBelow(const GlobPattern& pattern, const std::vector<std::string>& path);

// Whether a file at `path` is selected: include patterns add, later negated ones remove.
bool selectsFile(const std::vector<GlobPattern>& patterns, const std::vector<std::string>& path);

// The literal leading segments of a non-negated pattern: where its walk starts.
std::vector<std::string> searchRoot(const GlobPattern& pattern);

}  // namespace nixjail::runner::expr
