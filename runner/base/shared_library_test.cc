// Opening the first candidate library that has what the caller looks up, and saying why not.
#include "runner/base/shared_library.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include "runner/base/error.h"

namespace nixjail::base {
namespace {

TEST(SharedLibrary, CandidatesAreTheSonameThenTheBuildsDirectory) {
    EXPECT_EQ(sharedLibraryCandidates("libx.so.1", "/nix/store/abc-x/lib"),
              (std::vector<std::string>{"libx.so.1", "/nix/store/abc-x/lib/libx.so.1"}));
    EXPECT_EQ(sharedLibraryCandidates("libx.so.1", ""), std::vector<std::string>{"libx.so.1"});
}

TEST(SharedLibrary, TheFirstCandidateThatOpensAndBindsIsKept) {
    std::vector<std::string> asked;
    void* strlenSeen = nullptr;
    void* handle = openSharedLibrary(
        {"/nonexistent/libnothing.so", "libc.so.6", "libm.so.6"},
        [&](void* h) {
            asked.emplace_back("bind");
            strlenSeen = ::dlsym(h, "strlen");
            return strlenSeen ? std::string() : std::string("has no strlen");
        },
        "libc", "install libc");
    ASSERT_NE(handle, nullptr);
    EXPECT_EQ(asked.size(), 1u) << "the missing file is never bound, libm is never tried";
    EXPECT_NE(strlenSeen, nullptr);
}

TEST(SharedLibrary, EachCandidateAndWhyItFailedIsNamedWithWhatToInstall) {
    try {
        openSharedLibrary({"/nonexistent/libnothing.so", "libc.so.6"},
                          [](void*) { return std::string("has no frobnicate (too old?)"); },
                          "libfrob, which frobs", "install it (Debian: apt-get install libfrob1) and try again");
        FAIL() << "opened";
    } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_EQ(what.rfind("libfrob, which frobs cannot be loaded:\n  /nonexistent/libnothing.so: ", 0), 0u) << what;
        EXPECT_NE(what.find("\n  libc.so.6: has no frobnicate (too old?)\n"), std::string::npos) << what;
        EXPECT_NE(what.find("\ninstall it (Debian: apt-get install libfrob1) and try again"), std::string::npos) << what;
    }
}

}  // namespace
}  // namespace nixjail::base
