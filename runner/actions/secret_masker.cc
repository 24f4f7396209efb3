// Masking with the encodings a step might print a secret in (JSON string escapes, URL encoding).
#include "runner/actions/secret_masker.h"

#include <algorithm>
#include <cctype>

namespace nixjail::runner::actions {

namespace {

std::string jsonEscaped(std::string_view v) {
    std::string out;
    for (char c : v) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default: out += c;
        }
    }
    return out;
}

std::string urlEncoded(std::string_view v) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : v) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

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
    addOne(jsonEscaped(value));
    addOne(urlEncoded(value));
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

size_t SecretMasker::size() const {
    std::lock_guard lock(mu_);
    return values_.size();
}

}  // namespace nixjail::runner::actions
