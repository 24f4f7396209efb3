// Attacks on the files the runner reads, writes or walks on a jailed job's behalf (issue: a step
// that replaced $GITHUB_ENV with a link to /root/plant.env had the runner, as root outside the
// jail, feed that host file into the job). Each job below tries one shape (symbolic link, FIFO,
// directory, hard link, huge file, a file swapped between the two by a process left running, a
// replaced directory, a link on a checkout's or an action's
// path, hashFiles through a link, the init's /proc/1) with real programs in the namespace jail,
// and the test asserts that no host content reaches the job, the log or the summary, that the
// host file or directory is untouched, and that the runner finished every job.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>

#include "runner/base/file_io.h"
#include "runner/base/temp_dir.h"
#include "tests/e2e/e2e_run.h"

namespace {

namespace fs = std::filesystem;
using nixjail::base::TempDir;
using nixjail::e2e::has;

std::vector<std::string> nixEnv() {
    auto env = nixjail::e2e::baseEnv();
    env.push_back("NIX_CONFIG=sandbox = false\nsubstituters =");
    return env;
}

std::string hexEscaped(const std::string& s) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += "\\x";
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
    for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) {
        text.replace(at, from.size(), to);
    }
    return text;
}

// Every file under `dir`, for "nothing was added here".
std::vector<std::string> listing(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

constexpr const char* kWorkflow = R"Y(on: push
env:
  NIXJAIL_PACKAGES: bash coreutils gnugrep
jobs:
  env-link:
    runs-on: ubuntu-latest
    steps:
      - run: rm -f "$GITHUB_ENV"; ln -s PLANT/host.env "$GITHUB_ENV"
        continue-on-error: true
      - run: echo "SEEN-ENV=[${HOSTVAR:-}]"
  output-link:
    runs-on: ubuntu-latest
    steps:
      - id: o
        run: rm -f "$GITHUB_OUTPUT"; ln -s PLANT/host.env "$GITHUB_OUTPUT"
        continue-on-error: true
      - run: echo "SEEN-OUTPUT=[${{ steps.o.outputs.HOSTVAR }}]"
  path-link:
    runs-on: ubuntu-latest
    steps:
      - run: rm -f "$GITHUB_PATH"; ln -s PLANT/host.env "$GITHUB_PATH"
        continue-on-error: true
      - run: echo "SEEN-PATH=[$PATH]"
  state-and-summary-link:
    runs-on: ubuntu-latest
    steps:
      - run: rm -f "$GITHUB_STATE"; ln -s PLANT/host.env "$GITHUB_STATE"
        continue-on-error: true
      - run: rm -f "$GITHUB_STEP_SUMMARY"; ln -s PLANT/host.env "$GITHUB_STEP_SUMMARY"
        continue-on-error: true
  swap-race:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "RACEVAR=regular" > "$RUNNER_TEMP/regular"
          ( while :; do
              ln -sf PLANT/host.env "$GITHUB_ENV"
              cp "$RUNNER_TEMP/regular" "$GITHUB_ENV.new"; mv -f "$GITHUB_ENV.new" "$GITHUB_ENV"
            done ) &
          sleep 1
        continue-on-error: true
      - run: echo "SEEN-RACE=[${HOSTVAR:-}]"
  fifo:
    runs-on: ubuntu-latest
    steps:
      - run: rm -f "$GITHUB_ENV"; mkfifo "$GITHUB_ENV"
        continue-on-error: true
      - run: echo "after the FIFO"
  directory:
    runs-on: ubuntu-latest
    steps:
      - run: rm -f "$GITHUB_OUTPUT"; mkdir "$GITHUB_OUTPUT"
        continue-on-error: true
  hard-link:
    runs-on: ubuntu-latest
    steps:
      - run: |
          mine="$(dirname "$GITHUB_ENV")/mine"
          echo "HARDVAR=from-a-hard-link" > "$mine"
          rm -f "$GITHUB_ENV"; ln "$mine" "$GITHUB_ENV"
        continue-on-error: true
      - run: echo "SEEN-HARD=[${HARDVAR:-}]"
  huge:
    runs-on: ubuntu-latest
    steps:
      - run: head -c 70000000 /dev/zero > "$GITHUB_ENV"
        continue-on-error: true
      - run: head -c 2000000 /dev/zero | tr '\0' x > "$GITHUB_STEP_SUMMARY"
  command-dir-link:
    runs-on: ubuntu-latest
    steps:
      - run: rm -rf "$RUNNER_TEMP/_runner_file_commands"; ln -s PLANT/dir "$RUNNER_TEMP/_runner_file_commands"
      - run: echo "this step must not start"
        continue-on-error: true
  checkout-through-link:
    runs-on: ubuntu-latest
    steps:
      - run: ln -s PLANT/dir "$GITHUB_WORKSPACE/out"
      - uses: actions/checkout@v4
        continue-on-error: true
        with:
          path: out/x
  action-through-link:
    runs-on: ubuntu-latest
    steps:
      - run: |
          ln -s PLANT/action "$GITHUB_WORKSPACE/act"
          mkdir "$GITHUB_WORKSPACE/act2"; ln -s PLANT/action/action.yml "$GITHUB_WORKSPACE/act2/action.yml"
      - uses: ./act
        continue-on-error: true
      - uses: ./act2
        continue-on-error: true
      - uses: example/evil-action@main
        continue-on-error: true
  checkout-moved:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          repository: example/library
          ref: main
          path: a/b
      - run: mv "$GITHUB_WORKSPACE/a" "$GITHUB_WORKSPACE/a.moved"; ln -s PLANT/victim "$GITHUB_WORKSPACE/a"
  hash-through-link:
    runs-on: ubuntu-latest
    steps:
      - run: ln -s PLANT/host.env "$GITHUB_WORKSPACE/h.txt"
      - run: echo "HASH=[${{ hashFiles('h.txt') }}] FOLLOW=[${{ hashFiles('--follow-symbolic-links', 'h.txt') }}]"
  init-process:
    runs-on: ubuntu-latest
    steps:
      - run: |
          want=$(printf '%b' 'WANT')
          for f in /proc/1/cmdline /proc/1/environ; do
            if tr '\0' '\n' < "$f" 2>/dev/null | grep -qF "$want"; then echo "LEAK in $f"; fi
          done
          cat /proc/1/environ > /dev/null 2>&1 && echo "ENVIRON-READABLE" || echo "environ closed"
          head -c 16 /proc/1/mem > /dev/null 2>&1 && echo "MEM-READABLE" || echo "mem closed"
          ls /proc/1/fd > /dev/null 2>&1 && echo "FDS-LISTED" || echo "fds closed"
          echo "INIT=[$(tr '\0' ' ' < /proc/1/cmdline | tr -s ' ')]"
)Y";

TEST(ExecFileAttack, StepFilesAndWorkspacePathsNeverLeadTheRunnerToHostFiles) {
    NIXJAIL_E2E_REQUIRE(nixjail::e2e::rootAndNixMissing());
    TempDir plant("nixjail-plant-");
    ::chmod(plant.path().c_str(), 0755);
    const std::string tag = std::to_string(std::random_device{}());
    const std::string planted = "PLANTED-HOST-ENV-" + tag;
    nixjail::base::writeFile(plant.path() / "host.env", "HOSTVAR=" + planted + "\n");
    fs::create_directories(plant.path() / "dir");
    nixjail::base::writeFile(plant.path() / "dir/keep.txt", "host directory\n");
    fs::create_directories(plant.path() / "action");
    nixjail::base::writeFile(plant.path() / "action/action.yml",
                             "name: planted\nruns:\n  using: composite\n  steps:\n"
                             "    - run: echo PLANTED-ACTION-RAN-" + tag + "\n      shell: bash\n");
    // The removal of a checkout at the job's end must not follow a link a step put on its path.
    fs::create_directories(plant.path() / "victim/b");
    nixjail::base::writeFile(plant.path() / "victim/b/keep.txt", "host file under a checkout's path\n");
    const auto before = listing(plant.path());
    TempDir forge("nixjail-attack-forge-");
    const fs::path library = forge.path() / "example/library";
    fs::create_directories(library);
    nixjail::base::writeFile(library / "lib.txt", "library\n");
    // A published action whose action.yml is a link to a file on the runner's host.
    const fs::path evil = forge.path() / "example/evil-action";
    fs::create_directories(evil);
    fs::create_symlink(plant.path() / "action/action.yml", evil / "action.yml");
    for (const fs::path& repo : {library, evil}) {
        for (std::vector<std::string> a : {std::vector<std::string>{"init", "-q"}, {"add", "."},
                                           {"commit", "-qm", "first"}}) {
            a.insert(a.begin(), {"git", "-c", "user.name=t", "-c", "user.email=t@t", "-c",
                                 "init.defaultBranch=main"});
            auto c = nixjail::base::ChildProcess::spawn(
                {.argv = a, .env = nixjail::e2e::baseEnv(), .cwd = repo});
            ASSERT_EQ(c.wait().exitCode(), 0);
        }
    }

    TempDir dir("nixjail-attack-repo-");
    TempDir cache("nixjail-attack-cache-");
    TempDir out("nixjail-attack-out-");
    const std::string secret = "argv-secret-" + tag;
    const std::string envSecret = "env-secret-" + tag;
    std::string workflow = replaceAll(kWorkflow, "PLANT", plant.path().string());
    workflow = replaceAll(workflow, "'WANT'", "'" + hexEscaped(secret) + "'");
    nixjail::base::writeFile(dir.path() / "w.yml", workflow);
    const auto summary = out.path() / "summary.json";
    auto env = nixEnv();
    env.push_back("ENV_TOKEN=" + envSecret);
    auto r = nixjail::e2e::runBinary(
        {"exec", "-W", "w.yml", "--executor", "namespace", "--nixpkgs",
         (nixjail::e2e::kSource / "examples/nix").string(), "--cache-dir", cache.path().string(),
         "--secret", "TOKEN=" + secret, "--secret", "ENV_TOKEN", "--server-url",
         "file://" + forge.path().string(), "--default-actions-url",
         "file://" + forge.path().string(), "--json-summary",
         summary.string(), "--max-parallel", "2"},
        dir.path(), env);
    const std::string& log = r.out;
    // Every job ran to its end: the runner survived each attack.
    for (const char* job : {"env-link", "output-link", "path-link", "state-and-summary-link",
                            "swap-race", "fifo",
                            "directory", "hard-link", "huge", "command-dir-link",
                            "checkout-through-link", "action-through-link", "checkout-moved",
                            "hash-through-link",
                            "init-process"}) {
        EXPECT_TRUE(has(log, std::string("job ") + job)) << job << "\n" << log;
    }
    // No host content anywhere: not in the job, not in the log, not in the summary.
    EXPECT_FALSE(has(log, planted)) << log;
    EXPECT_FALSE(has(log, "PLANTED-ACTION-RAN")) << log;
    const std::string json = nixjail::base::readFile(summary);
    EXPECT_FALSE(has(json, planted));
    EXPECT_FALSE(has(json, "PLANTED-ACTION-RAN"));
    // ... and nothing of the host was written or removed.
    EXPECT_EQ(listing(plant.path()), before);
    EXPECT_EQ(nixjail::base::readFile(plant.path() / "dir/keep.txt"), "host directory\n");
    EXPECT_TRUE(fs::exists(plant.path() / "victim/b/keep.txt"));

    // Each refusal says what happened.
    EXPECT_TRUE(has(log, "SEEN-ENV=[]")) << log;
    EXPECT_TRUE(has(log, "GITHUB_ENV was replaced by a symbolic link; refusing to read it")) << log;
    EXPECT_TRUE(has(log, "SEEN-OUTPUT=[]")) << log;
    EXPECT_TRUE(has(log, "GITHUB_OUTPUT was replaced by a symbolic link")) << log;
    EXPECT_TRUE(has(log, "GITHUB_PATH was replaced by a symbolic link")) << log;
    EXPECT_FALSE(has(log, "SEEN-PATH=[HOSTVAR")) << log;
    EXPECT_TRUE(has(log, "GITHUB_STATE was replaced by a symbolic link")) << log;
    EXPECT_TRUE(has(log, "GITHUB_STEP_SUMMARY was replaced by a symbolic link")) << log;
    // A file swapped back and forth between a link and a regular file by a process the step left
    // running: that process dies with the step, and the runner reads one fd it checked.
    EXPECT_TRUE(has(log, "SEEN-RACE=[]")) << log;
    EXPECT_TRUE(has(log, "GITHUB_ENV was replaced by a FIFO; refusing to read it")) << log;
    EXPECT_TRUE(has(log, "after the FIFO")) << log;
    EXPECT_TRUE(has(log, "GITHUB_OUTPUT was replaced by a directory; refusing to read it")) << log;
    EXPECT_TRUE(has(log, "GITHUB_ENV has 2 hard links")) << log;
    EXPECT_TRUE(has(log, "SEEN-HARD=[]")) << log;
    EXPECT_TRUE(has(log, "GITHUB_ENV is larger than the 65536 KiB the runner reads")) << log;
    EXPECT_TRUE(has(log, "$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of 1024k"))
        << log;
    // The command files' directory is where the step's own tmpfs is mounted in its jail: the step
    // can neither remove it nor put a link in its place (before, the runner refused the link).
    EXPECT_TRUE(has(log, "rm: cannot remove '/runner/temp/_runner_file_commands': Device or resource busy"))
        << log;
    EXPECT_FALSE(has(log, "| this step must not start")) << log;
    EXPECT_TRUE(has(log, "actions/checkout path 'out/x': 'out' is a symbolic link or a file, not a "
                         "directory; refusing to go through it"))
        << log;
    EXPECT_TRUE(has(log, "uses './act' is a symbolic link; refusing to use it")) << log;
    EXPECT_TRUE(has(log, "workspace/act2/action.yml' is a symbolic link leading outside its "
                         "directory; refusing to read it"))
        << log;
    EXPECT_TRUE(has(log, "evil-action@main/action.yml' is a symbolic link leading outside its "
                         "directory; refusing to read it"))
        << log;
    EXPECT_TRUE(has(log, "A step replaced a directory on the way to the checkout 'a/b' with a link"))
        << log;
    EXPECT_TRUE(has(log, "HASH=[] FOLLOW=[]")) << log;
    // The jail's pid 1 shows nothing of the runner: not its argv (--secret TOKEN=...), not its
    // environment (ENV_TOKEN), not its memory or descriptors.
    EXPECT_FALSE(has(log, "LEAK in")) << log;
    EXPECT_TRUE(has(log, "environ closed")) << log;
    EXPECT_TRUE(has(log, "mem closed")) << log;
    EXPECT_TRUE(has(log, "fds closed")) << log;
    EXPECT_TRUE(has(log, "INIT=[nixjail-init ]")) << log;
    EXPECT_FALSE(has(log, envSecret));
}

}  // namespace
