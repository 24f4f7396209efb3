// libcurl loaded on first use: the real library loads and answers; a missing or wrong library
// gives an error that names each candidate and the package to install.
#include "runner/forge/curl_library.h"

#include <gtest/gtest.h>

#include "runner/base/error.h"
#include "runner/forge/curl_easy.h"
#include "runner/forge/forge_client.h"

namespace nixjail::runner::forge {
namespace {

TEST(CurlLibrary, LoadsTheInstalledLibcurlOnce) {
    const CurlLibrary& a = curlLibrary();
    const CurlLibrary& b = curlLibrary();
    EXPECT_EQ(&a, &b);
    ASSERT_NE(a.easy_strerror, nullptr);
    EXPECT_STREQ(a.easy_strerror(CURLE_OK), "No error");
}

TEST(CurlLibrary, CandidatesStartWithTheSoname) {
    const auto c = curlLibraryCandidates();
    ASSERT_FALSE(c.empty());
    EXPECT_EQ(c.front().rfind("libcurl.", 0), 0u) << c.front();  // a bare soname: the linker's search path
}

// Where no dynamic linker path holds libcurl (NixOS), the copy the build linked against is found
// by its directory.
TEST(CurlLibrary, TheBuildsOwnLibraryLoadsByItsPath) {
    const auto c = curlLibraryCandidates();
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[1].front(), '/') << c[1];
    const CurlLibrary lib = loadCurlLibrary({c[1]});
    EXPECT_NE(lib.easy_init, nullptr);
}

TEST(CurlLibrary, MissingLibraryNamesEveryCandidateAndThePackage) {
    try {
        loadCurlLibrary({"/nonexistent/libcurl.so.4", "libc.so.6"});
        FAIL() << "expected an error";
    } catch (const base::Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("/nonexistent/libcurl.so.4: "), std::string::npos) << what;
        EXPECT_NE(what.find("libc.so.6: has no curl_global_init"), std::string::npos) << what;
        EXPECT_NE(what.find("apt-get install libcurl4"), std::string::npos) << what;
    }
}

TEST(CurlLibrary, RequestThroughTheLoadedLibraryReportsAClosedPort) {
    CurlEasy curl;
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    try {
        curl.post("http://127.0.0.1:1/x", {}, "{}", std::chrono::milliseconds(2000), false);
        FAIL() << "expected a ForgeError";
    } catch (const ForgeError& e) {
        EXPECT_NE(std::string(e.what()).find("POST 'http://127.0.0.1:1/x' failed"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace nixjail::runner::forge
