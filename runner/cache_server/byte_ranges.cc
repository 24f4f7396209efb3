// Merging byte ranges: a new range swallows every stored range it overlaps or touches.
#include "runner/cache_server/byte_ranges.h"

#include <algorithm>
#include <iterator>

namespace nixjail::runner::cache_server {

void ByteRanges::add(std::uint64_t start, std::uint64_t end) {
    if (end <= start) return;
    auto r = ranges_.upper_bound(start);
    if (r != ranges_.begin() && std::prev(r)->second >= start) --r;
    while (r != ranges_.end() && r->first <= end) {
        start = std::min(start, r->first);
        end = std::max(end, r->second);
        r = ranges_.erase(r);
    }
    ranges_.emplace(start, end);
}

bool ByteRanges::coversExactly(std::uint64_t size) const {
    if (size == 0) return ranges_.empty();
    return ranges_.size() == 1 && ranges_.begin()->first == 0 && ranges_.begin()->second == size;
}

std::uint64_t ByteRanges::total() const {
    std::uint64_t sum = 0;
    for (const auto& [start, end] : ranges_) sum += end - start;
    return sum;
}

}  // namespace nixjail::runner::cache_server
