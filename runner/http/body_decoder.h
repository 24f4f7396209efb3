// Turns a request body as it arrives (Content-Length or chunked framing) into its plain bytes,
// so uploads stream to disk; node's http client sends actions/cache chunks chunked.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "runner/http/request_head.h"

namespace nixjail::runner::http {

class BodyDecoder {
  public:
    explicit BodyDecoder(BodyFraming framing);
    // Appends the body bytes in `in` to `out`; returns how many bytes of `in` were used (the rest
    // belongs to the next request once done()).
    std::size_t consume(std::string_view in, std::string& out);
    bool done() const { return state_ == State::kDone; }
    bool failed() const { return state_ == State::kError; }
    const std::string& error() const { return error_; }

  private:
    enum class State {
        kSize,
        kExt,
        kSizeLf,
        kData,
        kDataCr,
        kDataLf,
        kTrailer,
        kTrailerLf,
        kDone,
        kError
    };
    std::size_t fail(std::string message, std::size_t used);

    bool chunked_;
    State state_;
    std::uint64_t remaining_ = 0;
    int digits_ = 0;
    bool trailer_empty_line_ = true;
    std::string error_;
};

}  // namespace nixjail::runner::http
