// Formatting diagnostics and suggesting spellings.
#include "runner/workflow/diagnostic.h"

#include <algorithm>

namespace nixjail::runner::workflow {

std::string Diagnostic::format() const {
    std::string out = file.empty() ? "<input>" : file;
    if (line > 0) out += ":" + std::to_string(line);
    if (line > 0 && col > 0) out += ":" + std::to_string(col);
    out += ": " + message;
    if (!source_line.empty()) {
        out += "\n  " + source_line;
        if (col > 0) out += "\n  " + std::string(static_cast<size_t>(col - 1), ' ') + "^";
    }
    return out;
}

std::string formatAll(const Diagnostics& diags) {
    std::string out;
    for (const auto& d : diags) {
        if (!out.empty()) out += "\n";
        out += d.format();
    }
    return out;
}

namespace {
size_t editDistance(const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}
}  // namespace

std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates) {
    std::string best;
    size_t bestDist = std::max<size_t>(2, word.size() / 3) + 1;
    for (const auto& c : candidates) {
        size_t d = editDistance(word, c);
        if (d < bestDist) {
            bestDist = d;
            best = c;
        }
    }
    return best;
}

}  // namespace nixjail::runner::workflow
