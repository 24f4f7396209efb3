// libgit2, loaded with dlopen on the first libgit2 call instead of when the runner starts.
// Linking it put libgit2 and the ~13 libraries it needs (Kerberos, mbedTLS, libssh2, PCRE2,
// http_parser...) into every nixjail-runner process: 2.3 ms of each start (`--version` went from
// 7.5 to 5.2 ms without them), paid by every `exec`, which reads the repository's files itself and
// normally never calls libgit2.
//
// Callers keep calling git_* as <git2.h> declares them: git2_library.cc defines each function the
// project calls, and each forwards to the same function of the library loaded here. A function
// added to a call site without being added there fails to link.
#pragma once

#include <string>
#include <vector>

namespace nixjail::cache {

// An opened libgit2 and the address of each function git2_library.cc forwards, in its order.
struct Git2Library {
    void* handle = nullptr;
    std::vector<void*> functions;
};

// Where the library is looked for, in order: its soname (the dynamic linker's search path), then
// the same name in the directory the build found libgit2 in (a Nix store path on NixOS, where no
// global search path holds it). The soname carries major.minor (libgit2.so.1.5), the version of
// the ABI the callers were compiled against.
std::vector<std::string> git2LibraryCandidates();

// Opens libgit2 from the first candidate that opens and has every forwarded function. Throws
// base::Error naming each candidate and why it failed, and the package that provides it. Not
// remembered (for tests); the handle stays open.
Git2Library loadGit2Library(const std::vector<std::string>& candidates);

// The same from git2LibraryCandidates(), once per process (thread-safe); later calls return the
// same library. After a failure the next call tries again and throws again.
const Git2Library& git2Library();

}  // namespace nixjail::cache
