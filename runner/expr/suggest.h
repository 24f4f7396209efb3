// "did you mean ...?" for misspelt function and context names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nixjail::runner::expr {

// The candidate closest to `word` (ignoring ASCII case) within an edit distance of 2 or a third
// of its length, or "" when none is that close.
std::string closestMatch(std::string_view word, const std::vector<std::string>& candidates);

// "; did you mean 'x'?" or "".
std::string didYouMean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace nixjail::runner::expr
