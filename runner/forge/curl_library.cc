// Loading libcurl with dlopen (see curl_library.h).
#include "runner/forge/curl_library.h"

#include <dlfcn.h>

#include "runner/base/error.h"
#include "runner/base/shared_library.h"

namespace nixjail::runner::forge {

namespace {

// The handle stays open for the life of the process: curl's global state and the function
// pointers handed out depend on it.
template <typename F>
bool bind(void* handle, const char* name, F& slot, std::string& missing) {
    void* sym = ::dlsym(handle, name);
    if (!sym) {
        missing += (missing.empty() ? "" : ", ") + std::string(name);
        return false;
    }
    slot = reinterpret_cast<F>(sym);
    return true;
}

bool bindAll(void* h, CurlLibrary& lib, std::string& missing) {
    bool ok = true;
    ok &= bind(h, "curl_global_init", lib.global_init, missing);
    ok &= bind(h, "curl_easy_init", lib.easy_init, missing);
    ok &= bind(h, "curl_easy_cleanup", lib.easy_cleanup, missing);
    ok &= bind(h, "curl_easy_reset", lib.easy_reset, missing);
    ok &= bind(h, "curl_easy_setopt", lib.easy_setopt, missing);
    ok &= bind(h, "curl_easy_perform", lib.easy_perform, missing);
    ok &= bind(h, "curl_easy_getinfo", lib.easy_getinfo, missing);
    ok &= bind(h, "curl_easy_strerror", lib.easy_strerror, missing);
    ok &= bind(h, "curl_slist_append", lib.slist_append, missing);
    ok &= bind(h, "curl_slist_free_all", lib.slist_free_all, missing);
    return ok;
}

}  // namespace

std::vector<std::string> curlLibraryCandidates() {
    return base::sharedLibraryCandidates(NIXJAIL_LIBCURL_SONAME, NIXJAIL_LIBCURL_DIR);
}

CurlLibrary loadCurlLibrary(const std::vector<std::string>& candidates) {
    CurlLibrary lib{};
    base::openSharedLibrary(
        candidates,
        [&](void* handle) {
            lib = {};
            std::string missing;
            return bindAll(handle, lib, missing) ? std::string() : "has no " + missing + " (too old a libcurl?)";
        },
        "libcurl, which the forge client talks HTTP with",
        "install it (Debian: apt-get install libcurl4; NixOS: the package's curl) and try again");
    return lib;
}

const CurlLibrary& curlLibrary() {
    static const CurlLibrary lib = [] {
        CurlLibrary loaded = loadCurlLibrary(curlLibraryCandidates());
        if (const CURLcode rc = loaded.global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK)
            throw base::Error("libcurl's global initialisation failed: " + std::string(loaded.easy_strerror(rc)));
        return loaded;
    }();
    return lib;
}

}  // namespace nixjail::runner::forge
