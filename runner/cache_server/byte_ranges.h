// ByteRanges: which bytes of an upload have arrived, as merged [start, end) ranges, so a commit
// can check that exactly [0, size) came in, whatever the order of the chunks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>

namespace nixjail::runner::cache_server {

class ByteRanges {
  public:
    // Adds [start, end), merging it with the ranges it overlaps or touches. Empty ranges add
    // nothing.
    void add(std::uint64_t start, std::uint64_t end);
    // Whether the ranges are exactly [0, size); for size 0, whether nothing arrived.
    bool coversExactly(std::uint64_t size) const;
    // How many bytes arrived (overlaps counted once).
    std::uint64_t total() const;
    // How many disjoint ranges there are.
    std::size_t count() const { return ranges_.size(); }

  private:
    std::map<std::uint64_t, std::uint64_t> ranges_;  // start -> end (exclusive), merged
};

}  // namespace nixjail::runner::cache_server
