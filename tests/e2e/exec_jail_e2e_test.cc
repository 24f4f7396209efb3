// End-to-end in the namespace jail: `exec --executor namespace` builds each job's root from the
// Nix packages it declares and runs every step inside. Needs root and Nix.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "e2e_run.h"
#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using nixjail::base::TempDir;
using nixjail::e2e::runBinary;

#define REQUIRE_ROOT_AND_NIX() NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing())

TEST(ExecJailE2E, ExampleRunsInTheJailWithOnlyItsClosure) {
    REQUIRE_ROOT_AND_NIX();
    TempDir cache("nixjail-e2e-cache-");
    TempDir out;
    const auto summary = out.path() / "summary.json";
    std::vector<std::string> args{"exec", "-W", "examples/ci.yml", "--executor", "namespace", "--nixpkgs",
                                  "examples/nix", "--cache-dir", cache.path().string(), "--secret",
                                  "DEMO_TOKEN=jail-secret-value", "--json-summary", summary.string()};
    auto r = runBinary(args, nixjail::e2e::kSource, nixjail::e2e::nixEnv());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("Job root: built from 2 packages"), std::string::npos) << r.out;
    // The report job declares bash, coreutils and gnused: its store holds their closure, no more.
    EXPECT_NE(r.out.find("| nixjail-test-bash nixjail-test-coreutils nixjail-test-gnused nixjail-test-libs \n"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find("jail-secret-value"), std::string::npos);
    // Each job's phases are timed; the first job to need a closure builds its root.
    auto rootHits = [&] {
        std::vector<bool> hits;
        const auto parsed = nlohmann::json::parse(nixjail::base::readFile(summary));
        for (const auto& j : parsed["workflows"][0]["jobs"]) {
            const auto& phases = j["phases"];
            EXPECT_GT(phases["closure_resolution"]["closure_paths"].get<int>(), 0) << phases;
            for (const char* p : {"root_prepare", "workspace_prepare", "execution", "cleanup"}) {
                EXPECT_TRUE(phases.contains(p)) << p << " " << phases;
            }
            hits.push_back(phases["root_prepare"]["cache_hit"].get<bool>());
        }
        return hits;
    };
    const auto cold = rootHits();
    EXPECT_NE(std::find(cold.begin(), cold.end(), false), cold.end());
    // A second run finds every root in the cache.
    auto warm = runBinary(args, nixjail::e2e::kSource, nixjail::e2e::nixEnv());
    ASSERT_EQ(warm.exit_code, 0) << warm.out << warm.err;
    EXPECT_EQ(warm.out.find("Job root: built"), std::string::npos) << warm.out;
    for (bool hit : rootHits()) EXPECT_TRUE(hit);
    // Each job's root was an overlay over the cached one, and the job's proxy CA was bound over the
    // root's trust store in the jail: the cached roots still hold the empty slot it is bound onto.
    size_t roots = 0;
    for (const auto& e : fs::directory_iterator(cache.path() / "roots")) {
        if (!fs::is_directory(e.path() / "etc")) continue;
        ++roots;
        EXPECT_EQ(fs::file_size(e.path() / "etc/ssl/certs/ca-certificates.crt"), 0u) << e.path();
    }
    EXPECT_GT(roots, 0u);
    std::ifstream mounts("/proc/self/mountinfo");
    for (std::string line; std::getline(mounts, line);)
        EXPECT_EQ(line.find(cache.path().string()), std::string::npos) << "left mounted: " << line;
}

TEST(ExecJailE2E, StepsSeeNoHostFilesAndRunUnprivileged) {
    REQUIRE_ROOT_AND_NIX();
    TempDir dir("nixjail-e2e-jail-");
    TempDir cache("nixjail-e2e-cache-");
    nixjail::base::writeFile(dir.path() / "w.yml", R"Y(on: push
jobs:
  probe:
    runs-on: nix
    env: {NIXJAIL_PACKAGES: bash coreutils}
    steps:
      - run: |
          id -u
          test ! -e /etc/shadow && echo no-shadow
          test ! -e /usr/bin/apt && echo no-apt
          touch "$GITHUB_WORKSPACE/written" && echo workspace-writable
          if touch /nix/store/x 2>/dev/null; then echo store-writable; else echo store-readonly; fi
)Y");
    auto r = runBinary({"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
                        (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir", cache.path().string()},
                       dir.path(), nixjail::e2e::nixEnv());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    for (const char* want : {"| 1000", "no-shadow", "no-apt", "workspace-writable", "store-readonly"}) {
        EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
    }
}

// The jail overlays the cached root itself (no tree per job where the jails reach the cache, as
// they reach the default /var/cache/nixjail-runner): a step that tries to write the root changes
// neither the cache nor what a later job sees.
TEST(ExecJailE2E, JobsShareTheCachedRootAndCannotWriteIt) {
    REQUIRE_ROOT_AND_NIX();
    TempDir dir("nixjail-e2e-jail-");
    TempDir cache("nixjail-e2e-cache-");
    ::chmod(cache.path().c_str(), 0755);
    // Each job prints the lower layer its jail's root overlay stands on, then its own probes.
    auto job = [](const std::string& name, const std::string& needs, const std::string& probes) {
        return "  " + name + ":\n" + needs + R"Y(    runs-on: nix
    env: {NIXJAIL_PACKAGES: bash coreutils}
    steps:
      - run: |
          while IFS= read -r l; do
            [[ $l == *lowerdir=* ]] && { l=${l#*lowerdir=}; echo "lowerdir=${l%%,*}"; break; }
          done < /proc/self/mountinfo
)Y" + probes;
    };
    nixjail::base::writeFile(
        dir.path() / "w.yml",
        "on: push\njobs:\n" + job("write", "", R"Y(          for p in /nixjail-probe /etc/nixjail-probe /bin/nixjail-probe /nix/store/nixjail-probe; do
            if (echo x > "$p") 2>/dev/null; then echo "wrote $p"; fi
          done
          rm /bin/sh 2>/dev/null && echo removed-sh || echo sh-kept
          (echo intruder >> /etc/passwd) 2>/dev/null && echo appended-passwd || echo passwd-kept
)Y") + job("read", "    needs: write\n", R"Y(          ls /nixjail-probe /etc/nixjail-probe /bin/nixjail-probe /nix/store/nixjail-probe 2>/dev/null || echo no-probe-seen
          test -L /bin/sh && echo sh-there
          while IFS= read -r l; do [[ $l == intruder* ]] && echo intruder-seen; done < /etc/passwd; true
)Y"));
    auto r = runBinary({"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
                        (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir", cache.path().string()},
                       dir.path(), nixjail::e2e::nixEnv());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    // Both jobs' jails stand on the cached root itself.
    const std::string lower = "lowerdir=" + (cache.path() / "roots").string() + "/";
    const auto first = r.out.find(lower);
    ASSERT_NE(first, std::string::npos) << r.out;
    EXPECT_NE(r.out.find(lower, first + 1), std::string::npos) << r.out;
    for (const char* want : {"sh-kept", "passwd-kept", "no-probe-seen", "sh-there"})
        EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
    for (const char* never : {"| wrote", "removed-sh", "appended-passwd", "intruder-seen"})
        EXPECT_EQ(r.out.find(never), std::string::npos) << never << "\n" << r.out;
    // Whatever a step could write in its jail went to the jail's own layer, never to the cache.
    size_t roots = 0;
    for (const auto& e : fs::directory_iterator(cache.path() / "roots")) {
        if (!fs::is_directory(e.path() / "etc")) continue;
        ++roots;
        for (const char* p : {"nixjail-probe", "etc/nixjail-probe", "bin/nixjail-probe", "nix/store/nixjail-probe"})
            EXPECT_FALSE(fs::exists(e.path() / p)) << e.path() / p;
        EXPECT_TRUE(fs::is_symlink(e.path() / "bin/sh")) << e.path();
        EXPECT_EQ(nixjail::base::readFile(e.path() / "etc/passwd").find("intruder"), std::string::npos);
    }
    EXPECT_EQ(roots, 1u);
}

// --disk: the job's writable directories are on a volume of that size; a step that fills it fails
// with ENOSPC and the runner says the quota is full. The run leaves no volume behind.
TEST(ExecJailE2E, DiskQuotaHoldsTheWorkspaceAndSaysWhenItIsFull) {
    REQUIRE_ROOT_AND_NIX();
    TempDir dir("nixjail-e2e-jail-");
    TempDir cache("nixjail-e2e-cache-");
    nixjail::base::writeFile(dir.path() / "w.yml", R"Y(on: push
jobs:
  fill:
    runs-on: nix
    env: {NIXJAIL_PACKAGES: bash coreutils}
    steps:
      - run: head -c 8000000 /dev/zero > "$GITHUB_WORKSPACE/small" && echo small-fits
      - run: cat /dev/zero > "$HOME/fill"
      - if: always()
        run: rm "$HOME/fill" && echo room-again
)Y");
    auto r = runBinary({"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
                        (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir",
                        cache.path().string(), "--disk", "32M"},
                       dir.path(), nixjail::e2e::nixEnv());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    for (const char* want :
         {"on the job's own 32 MiB volume", "small-fits", "No space left on device",
          "Process completed with exit code 1. The job's disk quota (32 MiB) is full.", "room-again"}) {
        EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
    }
    auto bad = runBinary({"exec", "-W", "w.yml", "--disk", "lots"}, dir.path(), nixjail::e2e::nixEnv());
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_NE((bad.out + bad.err).find("--disk"), std::string::npos) << bad.out << bad.err;
}

TEST(ExecJailE2E, NoPackagesIsAClearError) {
    REQUIRE_ROOT_AND_NIX();
    TempDir dir("nixjail-e2e-jail-");
    TempDir cache("nixjail-e2e-cache-");
    nixjail::base::writeFile(dir.path() / "w.yml", "on: push\njobs:\n  j:\n    runs-on: nix\n    steps:\n      - run: echo hi\n");
    // Without any nixpkgs (none given, none in NIX_PATH, an empty flake registry): one error
    // before any job.
    nixjail::base::writeFile(dir.path() / "registry.json", R"({"flakes": [], "version": 2})");
    auto env = nixjail::e2e::baseEnv();
    env.push_back("NIX_CONFIG=sandbox = false\nsubstituters =\nflake-registry = " + (dir.path() / "registry.json").string());
    auto r = runBinary({"exec", "-W", "w.yml", "--executor", "namespace", "--cache-dir", cache.path().string()},
                       dir.path(), env);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("no nixpkgs to build the jobs' packages from"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("job j"), std::string::npos) << r.out;
    // With one, a job without packages whose label has no default set says how to declare them.
    auto declared = runBinary({"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
                               (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir",
                               cache.path().string()},
                              dir.path(), env);
    EXPECT_EQ(declared.exit_code, 1);
    EXPECT_NE(declared.out.find("the job declares no Nix packages, its repository has no flake devShell, and its "
                                "runs-on label 'nix' has no default package set"),
              std::string::npos)
        << declared.out;
}

}  // namespace

namespace {

// A repository whose flake has a devShell needs no package declaration and no --nixpkgs: jobs
// that declare none get the devShell's packages, and only their closure.
TEST(ExecJailE2E, FlakeDevShellProvidesTheJobsPackages) {
    REQUIRE_ROOT_AND_NIX();
    TempDir dir("nixjail-e2e-flake-");
    TempDir cache("nixjail-e2e-cache-");
    fs::create_directories(dir.path() / "nix");
    fs::copy_file(nixjail::e2e::kSource / "tests/fixtures/nix/default.nix", dir.path() / "nix/default.nix");
    nixjail::base::writeFile(dir.path() / "flake.nix", R"N({
  outputs = { self }:
    let pkgs = import ./nix { system = "x86_64-linux"; };
    in {
      devShells.x86_64-linux.default = derivation {
        name = "shell";
        system = "x86_64-linux";
        builder = "/bin/sh";
        nativeBuildInputs = [ pkgs.bash ];
        buildInputs = [ pkgs.coreutils ];
      };
    };
}
)N");
    nixjail::base::writeFile(dir.path() / "w.yml", R"Y(on: push
jobs:
  shell:
    runs-on: nix
    steps:
      - run: echo "store:" /nix/store/*
)Y");
    auto r = runBinary({"exec", "-W", "w.yml", "--executor", "namespace", "--cache-dir", cache.path().string()},
                       dir.path(), nixjail::e2e::nixEnv());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("Job root: built from the devShell of " + (dir.path() / "flake.nix").string() +
                         " (2 packages)"),
              std::string::npos)
        << r.out;
    const auto store = r.out.substr(r.out.find("| store:"));
    for (const char* want : {"-nixjail-test-bash ", "-nixjail-test-coreutils ", "-nixjail-test-libs"}) {
        EXPECT_NE(store.find(want), std::string::npos) << want << "\n" << r.out;
    }
    EXPECT_EQ(store.find("curl"), std::string::npos) << r.out;  // in the package set, not in the shell
}

// Jailed jobs reach the runner's actions/cache server through their proxy, by a name pinned to
// its port; other ports of that name (the host's other services) stay out of reach.
TEST(ExecJailE2E, ActionsCacheServerIsReachableThroughTheProxyOnly) {
    REQUIRE_ROOT_AND_NIX();
    TempDir dir("nixjail-e2e-jail-");
    TempDir cache("nixjail-e2e-cache-");
    nixjail::base::writeFile(dir.path() / "w.yml", R"Y(on: push
jobs:
  cache:
    runs-on: nix
    env: {NIXJAIL_PACKAGES: bash coreutils curl}
    steps:
      - run: |
          echo "url $ACTIONS_CACHE_URL"
          status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ACTIONS_RUNTIME_TOKEN" \
            "${ACTIONS_CACHE_URL}_apis/artifactcache/cache?keys=nothing-yet&version=1")
          echo "lookup status $status"
          other=$(curl -s -o /dev/null -w '%{http_code}' "http://actions-cache.nixjail.internal:22/")
          echo "other port status $other"
)Y");
    auto r = runBinary({"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
                        (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir", cache.path().string()},
                       dir.path(), nixjail::e2e::nixEnv());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("| url http://actions-cache.nixjail.internal:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("| lookup status 204"), std::string::npos) << r.out;  // a miss, answered
    EXPECT_NE(r.out.find("| other port status 502"), std::string::npos) << r.out;
}

// A whole actions/cache round trip from inside the jail, through the proxy, with the requests
// @actions/cache makes (reserve, PATCH the archive with Content-Range, commit; then look up by a
// restore-key prefix and download the archiveLocation without the token), in two runs.
TEST(ExecJailE2E, ActionsCacheSaveAndRestoreThroughTheProxy) {
    REQUIRE_ROOT_AND_NIX();
    TempDir dir("nixjail-e2e-jail-");
    TempDir cache("nixjail-e2e-cache-");
    nixjail::base::writeFile(dir.path() / "w.yml", R"Y(on: push
jobs:
  save:
    runs-on: nix
    env: {NIXJAIL_PACKAGES: bash coreutils curl gnused}
    steps:
      - run: |
          api="${ACTIONS_CACHE_URL}_apis/artifactcache"
          auth="Authorization: Bearer $ACTIONS_RUNTIME_TOKEN"
          accept="Accept: application/json;api-version=6.0-preview.1"
          seq 1 20000 > archive
          size=$(stat -c %s archive)
          id=$(curl -sS --fail -H "$auth" -H "$accept" -H "Content-Type: application/json" \
            -d "{\"key\":\"deps-jail-1\",\"version\":\"v1\",\"cacheSize\":$size}" "$api/caches" \
            | sed -n 's/.*"cacheId": *\([0-9]*\).*/\1/p')
          echo "reserved $id"
          curl -sS --fail -X PATCH -H "$auth" -H "$accept" -H "Content-Type: application/octet-stream" \
            -H "Content-Range: bytes 0-$((size - 1))/*" --data-binary @archive "$api/caches/$id"
          curl -sS --fail -H "$auth" -H "$accept" -H "Content-Type: application/json" \
            -d "{\"size\":$size}" "$api/caches/$id" && echo "committed $(sha256sum < archive | cut -c1-16)"
  restore:
    runs-on: nix
    env: {NIXJAIL_PACKAGES: bash coreutils curl gnused}
    steps:
      - run: |
          api="${ACTIONS_CACHE_URL}_apis/artifactcache"
          found=$(curl -sS --fail -H "Authorization: Bearer $ACTIONS_RUNTIME_TOKEN" \
            -H "Accept: application/json;api-version=6.0-preview.1" "$api/cache?keys=deps-other,deps-jail-&version=v1")
          location=$(echo "$found" | sed -n 's/.*"archiveLocation": *"\([^"]*\)".*/\1/p')
          echo "location ${location%%\?*}"
          curl -sS --fail -o archive "$location"
          echo "restored $(sha256sum < archive | cut -c1-16)"
)Y");
    auto run = [&](const std::string& job) {
        return runBinary({"exec", "-W", "w.yml", "-j", job, "--executor", "namespace", "--nixpkgs",
                          (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir",
                          cache.path().string()},
                         dir.path(), nixjail::e2e::nixEnv());
    };
    auto save = run("save");
    ASSERT_EQ(save.exit_code, 0) << save.out << save.err;
    const auto committed = save.out.find("| committed ");
    ASSERT_NE(committed, std::string::npos) << save.out;
    const std::string digest = save.out.substr(committed + 12, 16);
    auto restore = run("restore");
    ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
    EXPECT_NE(restore.out.find("| location http://actions-cache.nixjail.internal:"), std::string::npos)
        << restore.out;
    EXPECT_NE(restore.out.find("| restored " + digest), std::string::npos) << restore.out;
}

// Audit mode lets a job reach anything and records what the policy would have decided; policy
// suggest turns the record into the smallest allow-policy.
TEST(ExecJailE2E, NetworkAuditThenPolicySuggest) {
    REQUIRE_ROOT_AND_NIX();
    TempDir dir("nixjail-e2e-jail-");
    TempDir cache("nixjail-e2e-cache-");
    nixjail::base::writeFile(dir.path() / "w.yml", R"Y(on: push
jobs:
  audit:
    runs-on: nix
    env: {NIXJAIL_PACKAGES: bash coreutils curl}
    steps:
      - run: |
          curl -s -o /dev/null http://one.nixjail-audit.invalid/a || true
          curl -s -o /dev/null -X POST http://two.nixjail-audit.invalid/b || true
)Y");
    const auto summary = dir.path() / "summary.json";
    auto r = runBinary({"exec", "-W", "w.yml", "--executor", "namespace", "--network-audit", "--nixpkgs",
                        (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir", cache.path().string(),
                        "--json-summary", summary.string()},
                       dir.path(), nixjail::e2e::nixEnv());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("would deny (audit mode) GET http://one.nixjail-audit.invalid/a"), std::string::npos) << r.out;
    auto suggested = runBinary({"policy", "suggest", "--summary", summary.string()}, dir.path());
    ASSERT_EQ(suggested.exit_code, 0) << suggested.err;
    EXPECT_EQ(suggested.out,
              "rules:\n  - host: \"one.nixjail-audit.invalid\"\n    methods: [GET]\n"
              "  - host: \"two.nixjail-audit.invalid\"\n    methods: [POST]\n");
    auto none = runBinary({"policy", "suggest"}, dir.path());
    EXPECT_EQ(none.exit_code, 1);
    EXPECT_NE(none.err.find("give a job id"), std::string::npos) << none.err;
}

TEST(CacheE2E, WarmListPrune) {
    REQUIRE_ROOT_AND_NIX();
    TempDir cache("nixjail-e2e-cache-");
    const std::string dir = cache.path().string();
    const std::string nixpkgs = (nixjail::e2e::kSource / "examples/nix").string();
    auto cold = runBinary({"cache", "--cache-dir", dir, "warm", "bash coreutils", "--nixpkgs", nixpkgs}, nixjail::e2e::kSource, nixjail::e2e::nixEnv());
    ASSERT_EQ(cold.exit_code, 0) << cold.err;
    EXPECT_NE(cold.out.find("for 3 store paths: built"), std::string::npos) << cold.out;
    auto warm = runBinary({"cache", "--cache-dir", dir, "warm", "coreutils, bash", "--nixpkgs", nixpkgs}, nixjail::e2e::kSource, nixjail::e2e::nixEnv());
    EXPECT_NE(warm.out.find("already cached"), std::string::npos) << warm.out;
    auto list = runBinary({"cache", "--cache-dir", dir, "list", "--json"});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    auto entries = nlohmann::json::parse(list.out)["entries"];
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0]["cache"], "root");
    EXPECT_GT(entries[0]["size_bytes"].get<std::uint64_t>(), 0u);
    auto none = runBinary({"cache", "--cache-dir", dir, "prune"});
    EXPECT_EQ(none.exit_code, 1);
    EXPECT_NE(none.err.find("--roots SIZE"), std::string::npos) << none.err;
    auto prune = runBinary({"cache", "--cache-dir", dir, "prune", "--roots", "0"});
    ASSERT_EQ(prune.exit_code, 0) << prune.err;
    EXPECT_NE(prune.out.find("removed root"), std::string::npos);
    auto after = runBinary({"cache", "--cache-dir", dir, "list", "--json"});
    EXPECT_TRUE(nlohmann::json::parse(after.out)["entries"].empty());
    // What Nix answered about "bash coreutils" is remembered until forgotten.
    auto forget = runBinary({"cache", "--cache-dir", dir, "prune", "--closures"});
    ASSERT_EQ(forget.exit_code, 0) << forget.err;
    EXPECT_NE(forget.out.find("forgot "), std::string::npos) << forget.out;
    EXPECT_EQ(forget.out.find("forgot 0 "), std::string::npos) << forget.out;
    EXPECT_TRUE(fs::is_empty(cache.path() / "closures"));
}

}  // namespace
