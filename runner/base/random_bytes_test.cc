// Random bytes in any size, not just getentropy's 256 per call.
#include "runner/base/random_bytes.h"

#include <gtest/gtest.h>

#include <string>

namespace nixjail::base {
namespace {

TEST(RandomBytes, FillsBuffersLargerThanOneGetentropyCall) {
    std::string a(1000, '\0');
    std::string b(1000, '\0');
    randomBytes(a.data(), a.size());
    randomBytes(b.data(), b.size());
    EXPECT_NE(a, b);
    // Every 256-byte piece was written (a zero run of 200 bytes is beyond chance).
    EXPECT_EQ(a.find(std::string(200, '\0')), std::string::npos);
    EXPECT_EQ(a.substr(744).find(std::string(200, '\0')), std::string::npos);
    randomBytes(a.data(), 0);  // nothing asked, nothing done
}

}  // namespace
}  // namespace nixjail::base
