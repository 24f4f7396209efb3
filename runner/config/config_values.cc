// Durations, byte sizes and CPU quotas as the configuration file writes them.
#include <cctype>
#include <cmath>

#include "runner/config/runner_config.h"

namespace nixjail::runner::config {

namespace {

// A non-negative decimal number at the front of `s`; advances `i`.
std::optional<double> number(const std::string& s, size_t& i) {
    const size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == start) return std::nullopt;
    try {
        size_t used = 0;
        double v = std::stod(s.substr(start, i - start), &used);
        if (used != i - start || !std::isfinite(v)) return std::nullopt;
        return v;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace

std::optional<milliseconds> parseDuration(const std::string& text) {
    if (text.empty()) return std::nullopt;
    double total = 0;
    size_t i = 0;
    while (i < text.size()) {
        auto v = number(text, i);
        if (!v) return std::nullopt;
        size_t u = i;
        while (u < text.size() && std::isalpha(static_cast<unsigned char>(text[u]))) ++u;
        const std::string unit = text.substr(i, u - i);
        i = u;
        double scale = 0;
        if (unit == "ms")
            scale = 1;
        else if (unit == "s")
            scale = 1000;
        else if (unit == "m")
            scale = 60e3;
        else if (unit == "h")
            scale = 3600e3;
        else if (unit == "d")
            scale = 86400e3;
        else
            return std::nullopt;
        total += *v * scale;
    }
    return milliseconds(static_cast<int64_t>(std::llround(total)));
}

std::optional<uint64_t> parseByteSize(const std::string& text) {
    size_t i = 0;
    auto v = number(text, i);
    if (!v) return std::nullopt;
    std::string unit = text.substr(i);
    for (const char* suffix : {"iB", "B"}) {
        const std::string s = suffix;
        if (unit.size() > s.size() && unit.compare(unit.size() - s.size(), s.size(), s) == 0) {
            unit.resize(unit.size() - s.size());
            break;
        }
    }
    double scale = 0;
    if (unit.empty() || unit == "B")
        scale = 1;
    else if (unit == "K" || unit == "k")
        scale = 1024.0;
    else if (unit == "M")
        scale = 1024.0 * 1024;
    else if (unit == "G")
        scale = 1024.0 * 1024 * 1024;
    else if (unit == "T")
        scale = 1024.0 * 1024 * 1024 * 1024;
    else
        return std::nullopt;
    return static_cast<uint64_t>(std::llround(*v * scale));
}

std::optional<double> parseCpuQuota(const std::string& text) {
    size_t i = 0;
    auto v = number(text, i);
    if (!v) return std::nullopt;
    if (i == text.size()) return *v;
    if (text.substr(i) == "%") return *v / 100.0;
    return std::nullopt;
}

}  // namespace nixjail::runner::config
