// Pure parsers for the parts of requests the HTTP head parser leaves alone: query parameters,
// Content-Range of an upload chunk, Range of a download.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nixjail::runner::http {

// The %-decoded value of `name` in the query of `target` ('+' is a space); nullopt when absent
// or badly escaped.
std::optional<std::string> queryParam(std::string_view target, std::string_view name);

// "bytes a-b/*" or "bytes a-b/total": the inclusive range [a, b].
struct ByteRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
};
std::optional<ByteRange> parseContentRange(std::string_view value);
// "bytes=a-b", "bytes=a-" or "bytes=-n" against a file of `size` bytes; nullopt for anything
// else (multiple ranges) or when unsatisfiable (the caller answers 416 if size > 0).
std::optional<ByteRange> parseRange(std::string_view value, std::uint64_t size);

}  // namespace nixjail::runner::http
