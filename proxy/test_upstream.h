// Test-only: real upstream servers for the proxy tests. nginx serving HTTPS and HTTP on loopback
// with a private test CA, and git smart-HTTP (git-http-backend via fcgiwrap) behind basic auth.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "runner/base/child_process.h"
#include "runner/base/temp_dir.h"

namespace nixjail::proxy::testing {

struct ToolResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs a program to completion with exactly `env` (plus PATH and HOME from `home`), capturing
// stdout and stderr through files so neither pipe can fill up.
ToolResult runTool(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                   const std::filesystem::path& scratch);

// A loopback port nobody listened on a moment ago (for servers that insist on binding themselves).
std::uint16_t pickFreePort();

// Why the real servers cannot run here, or "" when nginx, fcgiwrap, git-http-backend and openssl
// exist.
std::string missingTestTools();

class TestUpstream {
  public:
    static constexpr const char* kRealToken = "REAL-tok-9a7b31c0";
    static constexpr const char* kDummyToken = "DUMMY-tok-4e1d77aa";

    // Generates the CA and server certificate, a bare repository, and starts nginx and fcgiwrap.
    // Throws base::Error with nginx's error log when it does not come up.
    TestUpstream();

    std::uint16_t httpsPort() const { return https_port_; }
    std::uint16_t httpPort() const { return http_port_; }
    std::filesystem::path caFile() const { return dir_.path() / "ca.pem"; }
    const std::filesystem::path& dir() const { return dir_.path(); }
    std::filesystem::path wwwDir() const { return dir_.path() / "www"; }

  private:
    base::TempDir dir_;
    std::uint16_t https_port_ = 0;
    std::uint16_t http_port_ = 0;
    base::ChildProcess fcgiwrap_;
    base::ChildProcess nginx_;
};

}  // namespace nixjail::proxy::testing
