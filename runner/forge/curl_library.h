// libcurl, loaded when the first forge request is made instead of when the runner starts.
// Linking it pulls about 25 shared libraries (Kerberos, LDAP, GnuTLS, RTMP...) into every
// nixjail-runner process; their loading and relocation was about 7 ms of each `exec`, which never
// talks to a forge. Only the daemon, `register` and the forge tests load it.
#pragma once

#include <curl/curl.h>

#include <filesystem>
#include <string>
#include <vector>

namespace nixjail::runner::forge {

// The entry points of libcurl the forge client calls.
struct CurlLibrary {
    CURLcode (*global_init)(long flags);
    CURL* (*easy_init)();
    void (*easy_cleanup)(CURL*);
    void (*easy_reset)(CURL*);
    CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
    CURLcode (*easy_perform)(CURL*);
    CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
    const char* (*easy_strerror)(CURLcode);
    curl_slist* (*slist_append)(curl_slist*, const char*);
    void (*slist_free_all)(curl_slist*);
};

// Where the library is looked for, in order: the soname (the dynamic linker's search path), then
// the same name in the directory the build found libcurl in (a Nix store path on NixOS, where no
// global search path holds it).
std::vector<std::string> curlLibraryCandidates();

// Loads libcurl from the first candidate that opens and has every entry point, and runs
// curl_global_init, once per process; later calls return the same table. Throws base::Error
// naming each candidate and why it failed, and the package that provides it.
const CurlLibrary& curlLibrary();

// The same for an explicit list of candidates, not remembered (for tests).
CurlLibrary loadCurlLibrary(const std::vector<std::string>& candidates);

}  // namespace nixjail::runner::forge
