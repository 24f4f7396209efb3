// Diagnostic: one problem in user input, shown ninja-style: file:line:col, the source line, a caret.
#pragma once

#include <string>
#include <vector>

namespace nixjail::runner::workflow {

struct Diagnostic {
    std::string file;
    int line = 0;  // 1-based; 0 = unknown
    int col = 0;   // 1-based; 0 = unknown
    std::string message;
    std::string source_line;  // the offending line, when known
    std::string format() const;
};

using Diagnostics = std::vector<Diagnostic>;

std::string formatAll(const Diagnostics& diags);

// The closest candidate within a small edit distance, for "did you mean 'runs-on'?"; empty if none.
std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace nixjail::runner::workflow
