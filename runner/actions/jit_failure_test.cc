#include "runner/actions/jit_failure.h"

#include <gtest/gtest.h>

namespace nixjail::runner::actions {
namespace {

TEST(JitFailure, RecognisesNodeWithoutWebAssemblyAcrossChunks) {
    JitFailureScanner s;
    s.feed("[eval]:1\n" + std::string(300000, 'x') + "\nReferenceError: WebAss");
    EXPECT_FALSE(s.found());
    s.feed("embly is not defined\n    at [eval]:1:34\n");
    EXPECT_TRUE(s.found());
}

TEST(JitFailure, RecognisesV8AndJvmRefusedExecutableMemory) {
    JitFailureScanner v8;
    v8.feed("# Fatal error in , line 0\n# Check failed: 12 == (*__errno_location ()).\n"
            " 3: 0x21556a7 v8::base::OS::SetPermissions(void*, unsigned long, v8::base::OS::"
            "MemoryPermission) [node]\n");
    EXPECT_TRUE(v8.found());
    JitFailureScanner jvm;
    jvm.feed("Error occurred during initialization of VM\nFailed to mark memory page as "
             "executable - check if grsecurity/PaX is enabled\n");
    EXPECT_TRUE(jvm.found());
}

TEST(JitFailure, OrdinaryFailuresAreNotBlamedOnTheProfile) {
    JitFailureScanner s;
    s.feed("npm ERR! Test failed.  See above for more details.\nError: Cannot find module 'x'\n");
    EXPECT_FALSE(s.found());
    EXPECT_NE(jitFailureNote().find("--profile default"), std::string::npos);
}

}  // namespace
}  // namespace nixjail::runner::actions
