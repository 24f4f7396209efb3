#include "runner/actions/secret_encodings.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "runner/actions/secret_masker.h"
#include "runner/base/base64.h"

namespace nixjail::runner::actions {
namespace {

bool hasForm(const std::vector<std::string>& forms, const std::string& form) {
    return std::find(forms.begin(), forms.end(), form) != forms.end();
}

TEST(SecretEncodings, EscapesOfEachKind) {
    const auto forms = secretEncodings("a<b>&'c\"\x01");
    EXPECT_TRUE(hasForm(forms, "a<b>&'c\\\"\\u0001")) << "JSON";
    EXPECT_TRUE(hasForm(forms, "a%3Cb%3E%26%27c%22%01")) << "URL";
    EXPECT_TRUE(hasForm(forms, "a&lt;b&gt;&amp;&apos;c&quot;\x01")) << "XML";
    EXPECT_TRUE(hasForm(forms, "a<b>&''c\"\x01")) << "expression string";
    EXPECT_TRUE(hasForm(forms, base::base64Encode("a<b>&'c\"\x01"))) << "base64";
}

TEST(SecretEncodings, AValueNeedingNoEscapeAddsOnlyItsBase64Forms) {
    const auto forms = secretEncodings("plain-token-123");
    for (const auto& f : forms) EXPECT_NE(f, "plain-token-123");
    EXPECT_TRUE(hasForm(forms, base::base64Encode("plain-token-123")));
    EXPECT_LE(forms.size(), 4u);
}

// Whatever precedes the secret in a base64 stream (one, two or three bytes: every offset), and
// whatever follows it, the core of its offset is in the encoded stream.
TEST(SecretEncodings, Base64CoreIsInTheStreamAtEveryOffset) {
    const std::string secret = "s3cr3t-v@lue";
    for (std::string before : {"", "u", "us", "usr", "user:", "x-access-token:"}) {
        for (std::string after : {"", "!", "\n", "tail"}) {
            const std::string stream = base::base64Encode(before + secret + after);
            const std::string core = base64Core(secret, static_cast<int>(before.size() % 3));
            ASSERT_GE(core.size(), 14u) << before;
            EXPECT_NE(stream.find(core), std::string::npos) << before << "|" << after;
        }
    }
}

TEST(SecretEncodings, ShortValuesGiveNoBase64Fragments) {
    for (const auto& f : secretEncodings("abc")) EXPECT_LT(f.size(), 6u) << f;
}

TEST(SecretMasker, Base64OfACredentialPairIsMasked) {
    SecretMasker m;
    m.add("ghp_0123456789abcdef");
    for (std::string user : {"x-access-token:", "a:", "ab:"}) {
        const std::string header = "Authorization: Basic " + base::base64Encode(user + "ghp_0123456789abcdef");
        const std::string masked = m.mask(header);
        EXPECT_NE(masked, header) << user;
        EXPECT_NE(masked.find("***"), std::string::npos) << masked;
        // What is left of the encoded secret can not give more than the bytes around it.
        EXPECT_LE(masked.size(), header.size() - 20) << masked;
    }
}

TEST(SecretMasker, XmlAndExpressionFormsAreMasked) {
    SecretMasker m;
    m.add("it's <secret>");
    EXPECT_EQ(m.mask("<v>it&apos;s &lt;secret&gt;</v>"), "<v>***</v>");
    EXPECT_EQ(m.mask("format('it''s <secret>')"), "format('***')");
}

}  // namespace
}  // namespace nixjail::runner::actions
