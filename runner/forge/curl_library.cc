// Loading libcurl with dlopen (see curl_library.h).
#include "runner/forge/curl_library.h"

#include <dlfcn.h>

#include "runner/base/error.h"

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
    std::vector<std::string> out{NIXJAIL_LIBCURL_SONAME};
    const std::filesystem::path found(NIXJAIL_LIBCURL_DIR);
    if (!found.empty()) out.push_back((found / NIXJAIL_LIBCURL_SONAME).string());
    return out;
}

CurlLibrary loadCurlLibrary(const std::vector<std::string>& candidates) {
    std::string why;
    for (const auto& name : candidates) {
        void* handle = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            const char* err = ::dlerror();
            why += "\n  " + name + ": " + (err ? err : "cannot be opened");
            continue;
        }
        CurlLibrary lib{};
        std::string missing;
        if (!bindAll(handle, lib, missing)) {
            ::dlclose(handle);
            why += "\n  " + name + ": has no " + missing + " (too old a libcurl?)";
            continue;
        }
        return lib;
    }
    throw base::Error("libcurl, which the forge client talks HTTP with, cannot be loaded:" + why +
                      "\ninstall it (Debian: apt-get install libcurl4; NixOS: the package's curl) and try again");
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
