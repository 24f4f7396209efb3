// BodyDecoder: Content-Length and chunked bodies, split anywhere, and malformed framing.
#include "runner/http/body_decoder.h"

#include <gtest/gtest.h>

namespace nixjail::runner::http {
namespace {

TEST(BodyDecoder, ChunkedBodySplitAtEveryByteDecodesTheSame) {
    const std::string wire = "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
    BodyDecoder d(BodyFraming{BodyFraming::Kind::kChunked, 0});
    std::string out;
    std::size_t used = 0;
    for (std::size_t i = 0; i < wire.size() && !d.done(); ++i)
        used += d.consume(wire.substr(i, 1), out);
    EXPECT_TRUE(d.done());
    EXPECT_EQ(out, "hello world");
    EXPECT_EQ(wire.substr(used), "NEXT");
}

TEST(BodyDecoder, LengthBodyStopsAtItsEnd) {
    BodyDecoder d(BodyFraming{BodyFraming::Kind::kLength, 3});
    std::string out;
    EXPECT_EQ(d.consume("abcdef", out), 3u);
    EXPECT_TRUE(d.done());
    EXPECT_EQ(out, "abc");
}

TEST(BodyDecoder, MalformedChunkFramingFails) {
    for (std::string bad : {"zz\r\n", "3\r\nabcX", "3\nabc", "ffffffffffffffffff\r\n"}) {
        BodyDecoder d(BodyFraming{BodyFraming::Kind::kChunked, 0});
        std::string out;
        d.consume(bad, out);
        EXPECT_TRUE(d.failed()) << bad;
        EXPECT_FALSE(d.error().empty());
    }
}

}  // namespace
}  // namespace nixjail::runner::http
