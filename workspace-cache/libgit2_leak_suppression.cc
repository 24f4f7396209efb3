// Test-only: tells LeakSanitizer (sanitizer builds only read this hook) about a leak inside
// Debian's libgit2 1.5: its regexp search does not always free the pcre2 match data
// (libgit2/libgit2#6382), reached from git_remote_create_anonymous via the config lookup.
// Matched by module: the default fast unwinder stops inside libpcre2, which we never call.
extern "C" const char* __lsan_default_suppressions() { return "leak:libpcre2-8.so\n"; }
