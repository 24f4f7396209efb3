// BodyDecoder: a strict chunked decoder (hex sizes, CRLF only, trailers skipped).
#include "runner/http/body_decoder.h"

#include <algorithm>

namespace nixjail::runner::http {

BodyDecoder::BodyDecoder(BodyFraming framing)
    : chunked_(framing.kind == BodyFraming::Kind::kChunked) {
    if (chunked_) {
        state_ = State::kSize;
    } else if (framing.kind == BodyFraming::Kind::kLength && framing.length > 0) {
        state_ = State::kData;
        remaining_ = framing.length;
    } else {
        state_ = State::kDone;
    }
}

std::size_t BodyDecoder::fail(std::string message, std::size_t used) {
    state_ = State::kError;
    error_ = std::move(message);
    return used;
}

std::size_t BodyDecoder::consume(std::string_view in, std::string& out) {
    std::size_t i = 0;
    while (i < in.size() && state_ != State::kDone && state_ != State::kError) {
        const char c = in[i];
        switch (state_) {
            case State::kData: {
                auto n =
                    static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size() - i));
                out.append(in.substr(i, n));
                i += n;
                remaining_ -= n;
                if (remaining_ == 0) state_ = chunked_ ? State::kDataCr : State::kDone;
                continue;
            }
            case State::kSize: {
                int v = c >= '0' && c <= '9'   ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : -1;
                if (v >= 0) {
                    if (++digits_ > 15) return fail("chunk size too large", i);
                    remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(v);
                } else if (digits_ == 0) {
                    return fail("bad chunk size", i);
                } else if (c == ';') {
                    state_ = State::kExt;
                } else if (c == '\r') {
                    state_ = State::kSizeLf;
                } else {
                    return fail("bad chunk size", i);
                }
                break;
            }
            case State::kExt:
                if (c == '\r') state_ = State::kSizeLf;
                break;
            case State::kSizeLf:
                if (c != '\n') return fail("chunk size line not ended by CRLF", i);
                digits_ = 0;
                state_ = remaining_ == 0 ? State::kTrailer : State::kData;
                trailer_empty_line_ = true;
                break;
            case State::kDataCr:
                if (c != '\r') return fail("chunk data not followed by CRLF", i);
                state_ = State::kDataLf;
                break;
            case State::kDataLf:
                if (c != '\n') return fail("chunk data not followed by CRLF", i);
                state_ = State::kSize;
                break;
            case State::kTrailer:
                if (c == '\r') {
                    state_ = State::kTrailerLf;
                } else {
                    trailer_empty_line_ = false;
                }
                break;
            case State::kTrailerLf:
                if (c != '\n') return fail("trailer line not ended by CRLF", i);
                state_ = trailer_empty_line_ ? State::kDone : State::kTrailer;
                trailer_empty_line_ = true;
                break;
            case State::kDone:
            case State::kError:
                break;
        }
        ++i;
    }
    return i;
}

}  // namespace nixjail::runner::http
