// libgit2 loaded on first use: the real library of the version compiled against loads and
// answers, calls through the forwarding definitions reach it, and a missing or wrong library gives
// an error that names each candidate and the package to install.
#include "workspace-cache/git2_library.h"

#include <dlfcn.h>
#include <git2.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runner/base/error.h"

namespace nixjail::cache {
namespace {

const std::string kVersion =
    std::to_string(LIBGIT2_VER_MAJOR) + "." + std::to_string(LIBGIT2_VER_MINOR);

#ifdef __APPLE__
const std::string kSoname = "libgit2." + kVersion + ".dylib";
#else
const std::string kSoname = "libgit2.so." + kVersion;
#endif

// The version the library loaded from `lib` reports, asked directly (not through the forwarding
// definitions, which do not include git_libgit2_version: the project does not call it).
std::string loadedVersion(const Git2Library& lib) {
    using Version = int (*)(int*, int*, int*);
    auto version = reinterpret_cast<Version>(::dlsym(lib.handle, "git_libgit2_version"));
    if (!version) return "no git_libgit2_version";
    int major = 0, minor = 0, rev = 0;
    version(&major, &minor, &rev);
    return std::to_string(major) + "." + std::to_string(minor);
}

// The soname pins the ABI the callers were compiled against: the pkg-config version CMake derived
// it from must be that of the headers.
TEST(Git2Library, CandidatesAreTheSonameThenTheBuildsDirectory) {
    const auto c = git2LibraryCandidates();
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[0], kSoname);  // a bare soname: the linker's search path
    const std::filesystem::path found(c[1]);
    EXPECT_TRUE(found.is_absolute()) << c[1];
    EXPECT_EQ(found.filename(), kSoname) << c[1];
}

TEST(Git2Library, LoadsTheVersionCompiledAgainst) {
    const Git2Library lib = loadGit2Library(git2LibraryCandidates());
    ASSERT_NE(lib.handle, nullptr);
    EXPECT_FALSE(lib.functions.empty());
    for (void* fn : lib.functions) EXPECT_NE(fn, nullptr);
    EXPECT_EQ(loadedVersion(lib), kVersion);
}

// Where no dynamic linker path holds libgit2 (NixOS), the copy the build found is loaded by its
// path.
TEST(Git2Library, TheBuildsOwnLibraryLoadsByItsPath) {
    const auto c = git2LibraryCandidates();
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(loadedVersion(loadGit2Library({c[1]})), kVersion);
}

TEST(Git2Library, MissingLibraryNamesEveryCandidateAndThePackage) {
    try {
        loadGit2Library({"/nonexistent/" + kSoname, "libc.so.6"});
        FAIL() << "expected an error";
    } catch (const base::Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("libgit2 " + kVersion + ", which nixjail-runner"), std::string::npos)
            << what;
        EXPECT_NE(what.find("\n  /nonexistent/" + kSoname + ": "), std::string::npos) << what;
        EXPECT_NE(what.find("\n  libc.so.6: has no git_"), std::string::npos) << what;
        EXPECT_NE(what.find(" more (not libgit2 " + kVersion + "?)"), std::string::npos) << what;
        EXPECT_NE(what.find("apt-get install libgit2-" + kVersion), std::string::npos) << what;
        EXPECT_NE(what.find("NixOS: the package's libgit2"), std::string::npos) << what;
    }
}

// git_* as the callers see them are this project's definitions; each must reach libgit2's own
// function (dlsym on the library's handle), not call itself.
TEST(Git2Library, CallsReachTheLoadedLibrary) {
    const Git2Library& lib = git2Library();
    EXPECT_EQ(&lib, &git2Library());
    void* real = ::dlsym(lib.handle, "git_libgit2_init");
    ASSERT_NE(real, nullptr);
    EXPECT_NE(real, reinterpret_cast<void*>(&git_libgit2_init));
    Dl_info info{};
    ASSERT_NE(::dladdr(real, &info), 0);
    EXPECT_NE(std::string(info.dli_fname).find("libgit2"), std::string::npos) << info.dli_fname;

    ASSERT_GE(git_libgit2_init(), 1);
    git_oid oid;
    const char* hex = "0123456789abcdef0123456789abcdef01234567";
    ASSERT_EQ(git_oid_fromstr(&oid, hex), 0);
    EXPECT_STREQ(git_oid_tostr_s(&oid), hex);
    EXPECT_LT(git_oid_fromstr(&oid, "zz23456789abcdef0123456789abcdef01234567"), 0);
    ASSERT_NE(git_error_last(), nullptr);
    EXPECT_NE(std::string(git_error_last()->message).find("OID"), std::string::npos)
        << git_error_last()->message;
    git_libgit2_shutdown();
}

// Each test runs in a process of its own (gtest_discover_tests), so these are the first calls.
TEST(Git2Library, ConcurrentFirstCallsLoadOnce) {
    std::vector<const Git2Library*> seen(8);
    std::vector<std::thread> threads;
    for (auto& s : seen) {
        threads.emplace_back([&s] {
            git_libgit2_init();
            s = &git2Library();
            git_libgit2_shutdown();
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(std::set<const Git2Library*>(seen.begin(), seen.end()).size(), 1u);
}

}  // namespace
}  // namespace nixjail::cache
