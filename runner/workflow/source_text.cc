// Maps yaml-cpp marks and offsets inside scalar values back to lines and columns of the file.
#include "runner/workflow/source_text.h"

#include <algorithm>

namespace nixjail::runner::workflow {

namespace {
constexpr std::string_view kOpen = "${{";
}  // namespace

SourceText::SourceText(const std::string& text, std::string file)
    : file_(std::move(file)), text_(text) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < text_.size(); ++i) {
        if (text_[i] == '\n') line_starts_.push_back(i + 1);
    }
}

Diagnostic SourceText::at(const YAML::Mark& mark, std::string message) const {
    if (mark.line < 0 || static_cast<size_t>(mark.line) >= line_starts_.size()) {
        return Diagnostic{file_, 0, 0, std::move(message), {}};
    }
    return atOffset(line_starts_[static_cast<size_t>(mark.line)] +
                        static_cast<size_t>(std::max(mark.column, 0)),
                    std::move(message));
}

Diagnostic SourceText::atNode(const YAML::Node& node, std::string message) const {
    const YAML::Mark mark = node.Mark();
    if (!node.IsNull() || mark.pos < 0 || static_cast<size_t>(mark.pos) > text_.size())
        return at(mark, std::move(message));
    const std::string_view rest = std::string_view(text_).substr(static_cast<size_t>(mark.pos));
    for (std::string_view written : {"~", "null", "Null", "NULL"}) {
        if (rest.starts_with(written)) return at(mark, std::move(message));  // a written null
    }
    size_t i = static_cast<size_t>(mark.pos);
    while (i > 0 && (text_[i - 1] == ' ' || text_[i - 1] == '\t' || text_[i - 1] == '\n' ||
                     text_[i - 1] == '\r'))
        --i;
    if (i > 0 && (text_[i - 1] == '-' || text_[i - 1] == ':'))
        return atOffset(i - 1, std::move(message));
    return at(mark, std::move(message));
}

Diagnostic SourceText::inScalar(const YAML::Node& node, std::string_view value, size_t offset,
                                std::string message) const {
    const YAML::Mark mark = node.Mark();
    if (mark.line < 0 || static_cast<size_t>(mark.line) >= line_starts_.size()) {
        return Diagnostic{file_, 0, 0, std::move(message), {}};
    }
    size_t start = line_starts_[static_cast<size_t>(mark.line)] +
                   static_cast<size_t>(std::max(mark.column, 0));
    // Which `${{` of the value holds the offset, and where it begins.
    size_t k = 0, openInValue = 0;
    for (size_t i = value.find(kOpen); i != std::string_view::npos && i <= offset;
         i = value.find(kOpen, i + kOpen.size())) {
        ++k;
        openInValue = i;
    }
    if (k == 0) {
        // A bare `if:` condition: the value starts at the mark, after an opening quote.
        if (start < text_.size() && (text_[start] == '"' || text_[start] == '\'')) ++start;
        return atOffset(start + offset, std::move(message));
    }
    size_t openInText = start;
    for (size_t n = 0; n < k; ++n) {
        size_t found = text_.find(kOpen, n == 0 ? start : openInText + kOpen.size());
        if (found == std::string::npos) return at(mark, std::move(message));
        openInText = found;
    }
    return atOffset(openInText + (offset - openInValue), std::move(message));
}

Diagnostic SourceText::atOffset(size_t offset, std::string message) const {
    offset = std::min(offset, text_.size());
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    size_t line = static_cast<size_t>(it - line_starts_.begin()) - 1;
    size_t begin = line_starts_[line];
    size_t end = text_.find('\n', begin);
    if (end == std::string::npos) end = text_.size();
    std::string source = text_.substr(begin, end - begin);
    if (!source.empty() && source.back() == '\r') source.pop_back();
    return Diagnostic{file_, static_cast<int>(line) + 1, static_cast<int>(offset - begin) + 1,
                      std::move(message), std::move(source)};
}

}  // namespace nixjail::runner::workflow
