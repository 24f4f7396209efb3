// Masking a secret, its encoded forms (secret_encodings.h) and the lines of a multi-line one.
#include "runner/actions/secret_masker.h"

#include <algorithm>
#include <cctype>

#include "runner/actions/secret_encodings.h"

namespace nixjail::runner::actions {

namespace {

bool blank(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

}  // namespace

void SecretMasker::addOne(std::string value) {
    if (value.empty() || blank(value)) return;
    if (std::find(values_.begin(), values_.end(), value) != values_.end()) return;
    values_.push_back(std::move(value));
}

void SecretMasker::add(std::string_view value) {
    if (blank(value)) return;
    std::lock_guard lock(mu_);
    addOne(std::string(value));
    for (auto& form : secretEncodings(value)) addOne(std::move(form));
    // Lines of a multi-line secret are masked one by one, since output is processed by line.
    size_t start = 0;
    while (start <= value.size()) {
        size_t nl = value.find('\n', start);
        std::string_view line = value.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.size() != value.size()) addOne(std::string(line));
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
    std::stable_sort(values_.begin(), values_.end(),
                     [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string SecretMasker::mask(std::string_view text) const {
    std::lock_guard lock(mu_);
    std::string out(text);
    for (const auto& v : values_) {
        size_t at = 0;
        while ((at = out.find(v, at)) != std::string::npos) {
            out.replace(at, v.size(), "***");
            at += 3;
        }
    }
    return out;
}

size_t SecretMasker::safeCut(std::string_view text) const {
    std::lock_guard lock(mu_);
    size_t cut = text.size();
    for (bool moved = true; moved && cut > 0;) {
        moved = false;
        for (const auto& v : values_) {
            // An occurrence starting at t crosses the cut if it starts before it and ends after;
            // one that runs past the text's end is a beginning the next bytes may complete.
            const size_t first = cut >= v.size() ? cut - v.size() + 1 : 0;
            for (size_t t = first; t < cut; ++t) {
                const size_t n = std::min(v.size(), text.size() - t);
                if (text.compare(t, n, v, 0, n) == 0) {
                    cut = t;
                    moved = true;
                    break;
                }
            }
        }
    }
    return cut;
}

size_t SecretMasker::size() const {
    std::lock_guard lock(mu_);
    return values_.size();
}

}  // namespace nixjail::runner::actions
