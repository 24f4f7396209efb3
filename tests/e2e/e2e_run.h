// Running the nixjail-runner binary from end-to-end tests: exit code, stdout and stderr.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "runner/base/child_process.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace nixjail::e2e {

inline const std::filesystem::path kSource = NIXJAIL_SOURCE_DIR;

struct Run {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// A small fixed environment, plus the sanitizer settings of sanitizer builds so the runner
// binary under test reports (and suppresses) like the test itself.
inline std::vector<std::string> baseEnv() {
    std::vector<std::string> env{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "NO_COLOR=1"};
    for (const char* name : {"ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS"})
        if (const char* value = std::getenv(name)) env.push_back(std::string(name) + "=" + value);
    return env;
}

// baseEnv() for commands that build with real Nix here: a single-user store without the build
// sandbox (the test packages copy host binaries) and without substituters (no network).
inline std::vector<std::string> nixEnv() {
    auto env = baseEnv();
    env.push_back("NIX_CONFIG=sandbox = false\nsubstituters =");
    return env;
}

inline Run runBinary(std::vector<std::string> args, const std::filesystem::path& cwd = kSource,
                     std::vector<std::string> env = baseEnv()) {
    args.insert(args.begin(), NIXJAIL_BINARY);
    base::TempDir tmp("nixjail-e2e-out-");
    // Files, not pipes: a full pipe would block the runner while we wait.
    const auto outPath = tmp.path() / "out", errPath = tmp.path() / "err";
    base::writeFile(outPath, "");
    base::writeFile(errPath, "");
    base::UniqueFd out(::open(outPath.c_str(), O_WRONLY | O_CLOEXEC));
    base::UniqueFd err(::open(errPath.c_str(), O_WRONLY | O_CLOEXEC));
    auto child = base::ChildProcess::spawn(
        {.argv = args, .env = env, .cwd = cwd, .stdout_fd = out.get(), .stderr_fd = err.get()});
    auto st = child.wait();
    return {st.exitCode(), base::readFile(outPath), base::readFile(errPath)};
}

inline bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// The lines of /proc/self/mountinfo whose mount point is `dir` or below it.
inline std::vector<std::string> mountsUnder(const std::filesystem::path& dir) {
    std::vector<std::string> out;
    std::ifstream mounts("/proc/self/mountinfo");
    for (std::string line; std::getline(mounts, line);) {
        if (has(line, " " + dir.string())) out.push_back(line);
    }
    return out;
}

// True under NIXJAIL_TESTS_STRICT=1 (CI as root), where a missing prerequisite fails a test.
inline bool strictTests() {
    const char* s = std::getenv("NIXJAIL_TESTS_STRICT");
    return s && std::string(s) == "1";
}

// Why the namespace jail with Nix-built roots cannot run here (not root, no nix-build), or empty.
inline std::string rootAndNixMissing() {
    if (::geteuid() != 0) return "needs root for the namespace jail (euid is not 0)";
    if (::access("/usr/bin/nix-build", X_OK) != 0) return "needs nix-build (nix-bin)";
    return {};
}

// The jail backend of the daemon tests that run jobs jailed: the namespace executor, or with
// NIXJAIL_E2E_JAIL_BACKEND=systemd the systemd backend, as tests/systemd/in-systemd runs them
// under a booted systemd (ctest: systemd_booted_suite).
inline std::string jailBackend() {
    const char* backend = std::getenv("NIXJAIL_E2E_JAIL_BACKEND");
    return backend && *backend ? backend : "namespace";
}

// `exec` with the host executor (exec's default is the jail, which needs root and Nix): for the
// tests of workflow semantics, which must run anywhere.
inline Run runHostExec(std::vector<std::string> args, const std::filesystem::path& cwd = kSource,
                       std::vector<std::string> env = baseEnv()) {
    if (!args.empty() && args[0] == "exec" && std::find(args.begin(), args.end(), "--executor") == args.end()) {
        args.insert(args.begin() + 1, {"--executor", "host"});
    }
    return runBinary(std::move(args), cwd, std::move(env));
}

}  // namespace nixjail::e2e

// In a test body: skips the test with the reason `why` when it is not empty, or fails it under
// NIXJAIL_TESTS_STRICT=1.
#define NIXJAIL_E2E_REQUIRE(why)                              \
    do {                                                      \
        const std::string why_ = (why);                       \
        if (!why_.empty()) {                                  \
            if (::nixjail::e2e::strictTests()) FAIL() << why_; \
            GTEST_SKIP() << why_;                             \
        }                                                     \
    } while (0)
