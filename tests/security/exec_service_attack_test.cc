// A job's `services:` attacked from inside a service (exec, namespace jail, root, Nix): the
// service's start script tries to read the job's workspace and a host file, to reach the network
// by IP around the proxy, and through the proxy to a host the policy does not allow. Each must
// fail; the service's log (in the job log once it is ready) says what it saw.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "tests/e2e/e2e_run.h"

namespace {

namespace fs = std::filesystem;
using nixjail::base::TempDir;
using nixjail::e2e::has;

TEST(ServiceAttack, AServiceSeesNeitherTheWorkspaceNorTheHostNorTheNetwork) {
    NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing());
    TempDir repo("nixjail-sec-svc-");
    TempDir cache("nixjail-sec-cache-");
    TempDir host("nixjail-sec-host-");
    fs::permissions(host.path(), fs::perms::owner_all | fs::perms::others_exec | fs::perms::others_read);
    nixjail::base::writeFile(host.path() / "host-secret.txt", "host-secret-Qv81\n");
    ::chmod((host.path() / "host-secret.txt").c_str(), 0644);
    nixjail::base::writeFile(repo.path() / "workspace-secret.txt", "workspace-secret-Qv81\n");
    const std::string hostFile = (host.path() / "host-secret.txt").string();
    nixjail::base::writeFile(repo.path() / "images.yaml", R"Y(services:
  ready_timeout: 30s
  images:
    - image: "probe:*"
      packages: [bash, coreutils, curl]
      ready: test -e /state/probed
      start: |
        try() { if out=$(eval "$2" 2>&1); then echo "$1: REACHED: $out"; else echo "$1: refused"; fi; }
        try workspace 'cat /workspace/workspace-secret.txt'
        try workspace-listing 'test -n "$(ls -A /workspace 2>/dev/null)" && ls -A /workspace'
        try other-pids 'cat /proc/[0-9]*/root/workspace/workspace-secret.txt'
        try host-file "cat $HOST_FILE"
        try shadow 'cat /etc/shadow'
        try direct-ip 'curl -sS --noproxy "*" --max-time 3 http://1.1.1.1/'
        try direct-dns 'curl -sS --noproxy "*" --max-time 3 http://example.org/'
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://example.org/ 2>&1)
        echo "through-proxy: $code"
        touch /state/probed
        exec sleep 600
)Y");
    nixjail::base::writeFile(repo.path() / "w.yml", R"Y(on: push
jobs:
  t:
    runs-on: nix
    env:
      NIXJAIL_PACKAGES: bash coreutils
    services:
      probe:
        image: probe:1
        env:
          HOST_FILE: )Y" + hostFile + R"Y(
    steps:
      - run: echo step-ran
)Y");
    auto r = nixjail::e2e::runBinary({"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
                                      (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir",
                                      cache.path().string(), "--service-images", "images.yaml", "--no-color"},
                                     repo.path(), nixjail::e2e::nixEnv());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    ASSERT_TRUE(has(r.out, "step-ran")) << r.out;
    for (const char* probe : {"workspace", "workspace-listing", "other-pids", "host-file", "shadow", "direct-ip",
                              "direct-dns"}) {
        EXPECT_TRUE(has(r.out, std::string("| ") + probe + ": refused")) << probe << "\n" << r.out;
    }
    EXPECT_TRUE(has(r.out, "| through-proxy: 403")) << r.out;
    EXPECT_TRUE(has(r.out, "denied GET http://example.org/")) << "the service's request is in the job's audit\n" << r.out;
    EXPECT_FALSE(has(r.out, "REACHED")) << r.out;
    EXPECT_FALSE(has(r.out, "secret-Qv81")) << r.out;
}

}  // namespace
