// The SBPL profile: golden output, what it allows and denies, and string escaping.
#include "executor/sandbox_exec/sbpl_profile.h"

#include <gtest/gtest.h>

#include "executor/namespace/golden.h"
#include "runner/base/error.h"

namespace nixjail::executor::sbpl {
namespace {

ProfileInputs sample() {
    return {.store_paths = {"/nix/store/0a1b-bash-5.2", "/nix/store/2c3d-coreutils-9.4"},
            .writable = {"/private/var/folders/xy/T/nixjail-42/workspace",
                         "/private/var/folders/xy/T/nixjail-42/home",
                         "/private/var/folders/xy/T/nixjail-42/tmp"},
            .proxy_port = 41234};
}

TEST(SbplProfile, MatchesGolden) {
    testing::expectGolden("sbpl_default.sb", sbplProfile(sample()));
}

TEST(SbplProfile, DeniesByDefaultAndAllowsExactlyTheClosure) {
    auto p = sbplProfile(sample());
    EXPECT_EQ(p.rfind("; The fixed part", 0), 0u);
    EXPECT_NE(p.find("(version 1)\n(deny default)\n"), std::string::npos);
    EXPECT_NE(p.find("(subpath \"/nix/store/0a1b-bash-5.2\")"), std::string::npos);
    // Never the whole store, never write to it.
    EXPECT_EQ(p.find("(subpath \"/nix/store\")"), std::string::npos);
    EXPECT_NE(p.find("(literal \"/nix/store\")"), std::string::npos);  // metadata only
    auto closure = p.find("(allow file-read* process-exec file-map-executable");
    ASSERT_NE(closure, std::string::npos);
    // The first write permission after the closure's rule is the writable directories' rule.
    EXPECT_EQ(p.find("file-write", closure), p.find("(allow file-read* file-write*", closure) +
                                                 std::string("(allow file-read* ").size());
}

TEST(SbplProfile, NetworkOnlyToTheProxyOnLocalhost) {
    auto p = sbplProfile(sample());
    EXPECT_NE(p.find("(allow network-outbound (remote tcp \"localhost:41234\"))"),
              std::string::npos);
    EXPECT_EQ(p.find("network-inbound"), std::string::npos);
    auto in = sample();
    in.proxy_port.reset();
    EXPECT_EQ(sbplProfile(in).find("network-outbound"), std::string::npos);
}

TEST(SbplProfile, KeychainIsDeniedLast) {
    auto p = sbplProfile(sample());
    auto deny = p.find("(deny mach-lookup");
    ASSERT_NE(deny, std::string::npos);
    EXPECT_NE(p.find("(global-name \"com.apple.SecurityServer\")", deny), std::string::npos);
    EXPECT_NE(p.find("(global-name \"com.apple.securityd.xpc\")", deny), std::string::npos);
    EXPECT_NE(p.find("(subpath \"/Library/Keychains\")", deny), std::string::npos);
    EXPECT_EQ(p.find("(allow", deny), std::string::npos) << "an allow after the keychain denials";
}

TEST(SbplString, EscapesQuotesBackslashesAndLineBreaks) {
    EXPECT_EQ(sbplString("/plain/path"), "\"/plain/path\"");
    EXPECT_EQ(sbplString("/a \"quoted\" dir"), "\"/a \\\"quoted\\\" dir\"");
    EXPECT_EQ(sbplString("/back\\slash"), "\"/back\\\\slash\"");
    EXPECT_EQ(sbplString("/new\nline\ttab\rcr"), "\"/new\\nline\\ttab\\rcr\"");
    EXPECT_EQ(sbplString("/caf\xc3\xa9"), "\"/caf\xc3\xa9\"");  // UTF-8 passes through
    // A path cannot close the string and smuggle in a rule.
    EXPECT_EQ(sbplString("/x\")) (allow default) (\""), "\"/x\\\")) (allow default) (\\\"\"");
}

TEST(SbplString, RefusesControlCharactersItCannotCarry) {
    EXPECT_THROW(sbplString(std::string("/bell\x07")), base::Error);
    EXPECT_THROW(sbplString(std::string("/del\x7f")), base::Error);
}

TEST(SbplProfile, OddPathsAreEscapedAndRelativePathsRefused) {
    auto in = sample();
    in.writable = {"/private/tmp/with \"quote\"\nand\\slash"};
    auto p = sbplProfile(in);
    EXPECT_NE(p.find("(subpath \"/private/tmp/with \\\"quote\\\"\\nand\\\\slash\")"),
              std::string::npos);
    in.writable = {"relative/dir"};
    EXPECT_THROW(sbplProfile(in), base::Error);
}

}  // namespace
}  // namespace nixjail::executor::sbpl
